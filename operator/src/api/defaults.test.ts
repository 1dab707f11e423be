import { describe, expect, it } from 'vitest';
import { applySpecDefaults } from './defaults.ts';

describe('applySpecDefaults', () => {
  it('fills the scaling defaults that the CRD declares, down to the nested rule objects', () => {
    const spec = applySpecDefaults({ queue: { format: 'native', names: ['mail'], redis: { url: 'redis://r:6379' } } });
    expect(spec.scaling).toMatchObject({
      minReplicas: 1,
      maxReplicas: 10,
      concurrency: 10,
      targetLatencySeconds: 30,
      pollIntervalSeconds: 2,
      scaleUp: { stabilizationWindowSeconds: 0, selectPolicy: 'Max' },
      scaleDown: { stabilizationWindowSeconds: 45, selectPolicy: 'Max' },
      scaleToZeroAfterSeconds: 30,
    });
  });

  it('keeps what the user wrote', () => {
    const spec = applySpecDefaults({
      queue: { format: 'native', names: ['mail'], redis: { url: 'redis://r:6379' } },
      scaling: { maxReplicas: 40, scaleDown: { stabilizationWindowSeconds: 60 } },
    });
    expect(spec.scaling.maxReplicas).toBe(40);
    expect(spec.scaling.scaleDown.stabilizationWindowSeconds).toBe(60);
    expect(spec.scaling.minReplicas).toBe(1);
  });
});
