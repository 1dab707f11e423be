import { describe, expect, it } from 'vitest';
import { fieldPath, parsePoolYaml, PoolFileError } from './pool-file.ts';

const manifest = (scaling: string) => `
apiVersion: workerpool.dev/v1alpha1
kind: WorkerPool
metadata: {name: mailers}
spec:
  template: {spec: {containers: [{name: worker, image: w}]}}
  queue: {format: native, names: [mailers], redis: {url: "redis://r:6379"}}
  scaling: ${scaling}
`;

describe('parsePoolYaml', () => {
  it('reads a manifest and fills the defaults', () => {
    const spec = parsePoolYaml(manifest('{maxReplicas: 40, targetLatencySeconds: 20}'));
    expect(spec.scaling).toMatchObject({
      maxReplicas: 40,
      targetLatencySeconds: 20,
      minReplicas: 1,
      concurrency: 10,
      pollIntervalSeconds: 2,
    });
  });

  it('names the field that is wrong', () => {
    expect(() => parsePoolYaml(manifest('{maxReplicas: 0}'))).toThrow(/^spec\.scaling\.maxReplicas: /);
    expect(() => parsePoolYaml(manifest('{concurrency: "ten"}'))).toThrow(/^spec\.scaling\.concurrency: /);
    expect(() => parsePoolYaml(manifest('{minReplicas: 5, maxReplicas: 2}'))).toThrow(
      'spec.scaling.minReplicas: must not exceed maxReplicas',
    );
    expect(() => parsePoolYaml(manifest('{fallback: {replicas: 50}}'))).toThrow(
      'spec.scaling.fallback.replicas: must not exceed maxReplicas',
    );
  });

  it('rejects a target of 0 as the API server does (OpenAPI 3.0 exclusiveMinimum)', () => {
    expect(() => parsePoolYaml(manifest('{targetLatencySeconds: 0}'))).toThrow(
      new PoolFileError('spec.scaling.targetLatencySeconds: must be greater than 0'),
    );
    expect(parsePoolYaml(manifest('{targetLatencySeconds: 0.5}')).scaling.targetLatencySeconds).toBe(0.5);
  });

  it('checks per-queue targets as the API server does: known queues, above 0, within the pool target', () => {
    const pool = (targets: string) =>
      manifest(`{targetLatencySeconds: 60, queueTargetLatencySeconds: ${targets}}`).replace(
        'names: [mailers]',
        'names: [mailers, critical]',
      );
    expect(parsePoolYaml(pool('{critical: 5, mailers: 60}')).scaling.queueTargetLatencySeconds).toEqual({
      critical: 5,
      mailers: 60,
    });
    expect(() => parsePoolYaml(pool('{urgent: 5}'))).toThrow(
      new PoolFileError('spec.scaling.queueTargetLatencySeconds: queue "urgent" is not one of queue.names'),
    );
    expect(() => parsePoolYaml(pool('{critical: 0}'))).toThrow(
      new PoolFileError('spec.scaling.queueTargetLatencySeconds.critical: must be greater than 0'),
    );
    expect(() => parsePoolYaml(pool('{critical: "5"}'))).toThrow(
      /^spec\.scaling\.queueTargetLatencySeconds\.critical: /,
    );
    expect(() => parsePoolYaml(pool('{critical: 90}'))).toThrow(
      'spec.scaling.queueTargetLatencySeconds: a queue target must not exceed targetLatencySeconds',
    );
  });

  it('names a missing field', () => {
    expect(() =>
      parsePoolYaml('kind: WorkerPool\nspec:\n  template: {spec: {containers: [{name: w}]}}\n  scaling: {}\n'),
    ).toThrow(new PoolFileError('spec.queue: required'));
  });

  it('rejects what is not a WorkerPool', () => {
    expect(() => parsePoolYaml('kind: Deployment\nspec: {}\n')).toThrow('kind: expected WorkerPool, got "Deployment"');
    expect(() => parsePoolYaml('- a\n- b\n')).toThrow('expected a WorkerPool manifest');
    expect(() => parsePoolYaml('kind: WorkerPool\n')).toThrow('spec: required');
    expect(() => parsePoolYaml('kind: [\n')).toThrow(/^not valid YAML/);
  });

  it('writes paths as kubectl does', () => {
    expect(fieldPath('/queue/names/2')).toBe('spec.queue.names[2]');
    expect(fieldPath('')).toBe('spec');
  });
});
