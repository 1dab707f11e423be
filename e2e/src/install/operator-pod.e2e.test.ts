import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { enqueueWork, exampleNativePool } from '../harness/e2e-pool.ts';
import { startBareScenario, type BareScenario } from '../harness/scenario.ts';
import { installOperator, leaseHolder, type OperatorInstall } from './operator-install.ts';

// The install as a platform team runs it: `kubectl apply -k manifests/` with the operator image
// built from operator/Dockerfile. The operator runs as two pods under leader election, with only
// its ServiceAccount's rights, and scales a pool of real worker pods.

let install: OperatorInstall | undefined;
let scenario: BareScenario | undefined;

beforeAll(() => {
  expect(inject('podHostAddress')).toBeTruthy();
  install = installOperator();
});
afterAll(async () => {
  await scenario?.close();
  install?.uninstall();
});

describe('the operator installed from manifests/ as pods of its own image', () => {
  it('becomes Ready as two replicas, one leading, and scales a pool of real worker pods', async () => {
    install?.rolledOut();
    await expect.poll(leaseHolder, { timeout: 30_000, interval: 500 }).toMatch(/^workerpool-operator-/);

    scenario = await startBareScenario();
    const s = scenario;
    const watch = s.watch('installed');
    await watch.create(
      exampleNativePool(s.namespace, 'installed', s.redis.url, {
        recordPrefix: s.evidence.prefix,
        scaling: {
          minReplicas: 1,
          maxReplicas: 3,
          concurrency: 2,
          targetLatencySeconds: 5,
          pollIntervalSeconds: 1,
          podStartupSeconds: 5,
        },
      }),
    );
    await expect.poll(async () => (await watch.readyPods()).length, { timeout: 90_000, interval: 500 }).toBe(1);
    const ids = await enqueueWork(s.redis.url, 'installed', 60, 500);
    await expect.poll(() => watch.specReplicas(), { timeout: 20_000, interval: 250 }).toBeGreaterThan(1);
    await expect.poll(() => s.evidence.unfinished(ids), { timeout: 90_000, interval: 1_000 }).toEqual([]);
    expect(await watch.events()).toContainEqual(
      expect.stringMatching(/^SuccessfulRescale: Scaled Deployment installed from 1 to \d+ replicas/),
    );
  });
});
