import { describe, expect, it } from 'vitest';
import { uniqueKeyPrefix } from '@workerpool/testkit/isolation';
import { GROUP, PLURAL, VERSION, type ForecastStatus } from '../api/workerpool-schema.ts';
import { startOperatorForNamespace } from '../testing/operator-under-test.ts';
import { metricTotal } from '../testing/metric-total.ts';
import { templatePool } from '../testing/fixtures.ts';
import { mergePatch, OPERATOR_POLL, useOperatorNamespace } from '../testing/operator-namespace.ts';

// scaling.predictive learns for days; an operator restart (a rollout, a node drain, a failover)
// must not throw that away. The model lives in status.forecast on the real API server: the first
// operator writes it, a second one started afterwards restores it into the pool's engine state,
// forecasts from it, and writes it back with its learning start unchanged.

const ns = useOperatorNamespace({ redis: {}, operator: false });
const POOL = 'seasonal';
/** The pattern a week of learning left: 7.5 jobs/s at every time of day. */
const LEARNED_RATE = 7.5;

describe('the learned arrival pattern across an operator restart', () => {
  const keyPrefix = uniqueKeyPrefix('seasonal');
  const forecastOf = async () => (await ns.getPool(POOL)).status?.forecast;

  it('is written to status.forecast, restored by the next operator, and forecast from', async () => {
    const first = await startOperatorForNamespace(ns.kubeConfig, ns.name);
    let firstCopy: ForecastStatus;
    try {
      await ns.createPool(
        templatePool(ns.name, POOL, {
          queue: { format: 'native', names: ['jobs'], keyPrefix, redis: { url: ns.redis.url } },
          scaling: { minReplicas: 1, maxReplicas: 4, pollIntervalSeconds: 1, predictive: 'shadow' },
        }),
      );
      // The first copy is written once the model has counted arrivals (nothing arrived: 0 jobs/s).
      await expect.poll(forecastOf, OPERATOR_POLL).toBeDefined();
      const written = await forecastOf();
      if (written === undefined) throw new Error('status.forecast was written, then dropped');
      firstCopy = written;
      expect(firstCopy.day).toHaveLength(288);
      expect(firstCopy.hour).toHaveLength(60);
    } finally {
      await first.stop();
    }

    // While no operator runs, the copy becomes a week's learning (as the first operator would
    // have written it, had it run that long): the second operator must read it, not start over.
    // Saved long ago, so that the second operator's copy tells itself apart even when it is
    // written within the same second as the first one (status times are whole seconds).
    const learned: ForecastStatus = {
      ...firstCopy,
      savedAt: '2026-01-01T00:00:00Z',
      day: new Array<number>(288).fill(LEARNED_RATE),
    };
    await ns.custom.patchNamespacedCustomObjectStatus(
      {
        group: GROUP,
        version: VERSION,
        plural: PLURAL,
        namespace: ns.name,
        name: POOL,
        body: { status: { forecast: learned } },
      },
      mergePatch,
    );

    const second = await startOperatorForNamespace(ns.kubeConfig, ns.name);
    try {
      const forecastGauge = () => metricTotal(second.metrics.forecastArrivalRate, { namespace: ns.name, pool: POOL });
      await expect.poll(forecastGauge, OPERATOR_POLL).toBeCloseTo(LEARNED_RATE, 6);
      // Its own copy, written at its first publish: the same learning start, the restored pattern
      // (the minutes it watched since moved only the bucket they fell in, by at most 30 %).
      await expect.poll(async () => (await forecastOf())?.savedAt, OPERATOR_POLL).not.toBe(learned.savedAt);
      const secondCopy = (await forecastOf()) as ForecastStatus;
      expect(secondCopy.learningSince).toBe(firstCopy.learningSince);
      expect(secondCopy.day.filter((rate) => rate === LEARNED_RATE).length).toBeGreaterThanOrEqual(286);
    } finally {
      await second.stop();
    }
  });
});
