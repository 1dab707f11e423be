import { describe, expect, it } from 'vitest';
import { templatePool } from '../testing/fixtures.ts';
import { buildReplicasOnlyApply, buildWorkerDeployment } from './desired-deployment.ts';

describe('buildWorkerDeployment', () => {
  const pool = templatePool('billing', 'mailers', {
    template: {
      metadata: { labels: { tier: 'background' } },
      spec: {
        securityContext: { runAsUser: 1000 },
        containers: [
          {
            name: 'worker',
            image: 'mailer:1',
            env: [{ name: 'WORKERPOOL_CONCURRENCY', value: '7' }],
            securityContext: { capabilities: { add: ['NET_BIND_SERVICE'] } },
          },
          { name: 'sidecar', image: 'proxy:1' },
        ],
      },
    },
  });
  pool.metadata.uid = 'uid-1';

  it('is owned by the pool, so that it is garbage-collected with it', () => {
    const deployment = buildWorkerDeployment(pool, 3);
    expect(deployment.metadata?.ownerReferences).toEqual([
      {
        apiVersion: 'workerpool.dev/v1alpha1',
        kind: 'WorkerPool',
        name: 'mailers',
        uid: 'uid-1',
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
    expect(deployment.spec?.replicas).toBe(3);
    expect(deployment.spec?.selector).toEqual({ matchLabels: { 'workerpool.dev/pool': 'mailers' } });
  });

  it("labels the pods with the selector on top of the template labels, and never copies the pool's own labels", () => {
    const deployment = buildWorkerDeployment(pool, 1);
    expect(deployment.spec?.template.metadata?.labels).toMatchObject({
      tier: 'background',
      'workerpool.dev/pool': 'mailers',
    });
    expect(deployment.metadata?.labels).not.toHaveProperty('team');
  });

  it('fills restricted security defaults only where the template is silent', () => {
    const spec = buildWorkerDeployment(pool, 1).spec?.template.spec;
    expect(spec?.securityContext).toEqual({
      runAsNonRoot: true,
      runAsUser: 1000,
      seccompProfile: { type: 'RuntimeDefault' },
    });
    expect(spec?.containers[0]?.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      capabilities: { add: ['NET_BIND_SERVICE'] },
    });
    expect(spec?.containers[1]?.securityContext).toEqual({
      allowPrivilegeEscalation: false,
      capabilities: { drop: ['ALL'] },
    });
  });

  it("adds the operator's variables to the first container without overriding one the user set", () => {
    const env = buildWorkerDeployment(pool, 1, [
      { name: 'WORKERPOOL_CONCURRENCY', value: '10' },
      { name: 'REDIS_URL', value: 'redis://r' },
    ]).spec?.template.spec?.containers[0]?.env;
    expect(env).toEqual([
      { name: 'WORKERPOOL_CONCURRENCY', value: '7' },
      { name: 'REDIS_URL', value: 'redis://r' },
    ]);
  });
});

describe('buildReplicasOnlyApply', () => {
  it('names only the replicas, so that server-side apply owns nothing else of a Deployment it did not make', () => {
    expect(buildReplicasOnlyApply('shop', 'sidekiq', 4)).toEqual({
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'sidekiq', namespace: 'shop' },
      spec: { replicas: 4 },
    });
  });
});
