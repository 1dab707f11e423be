import { applySpecDefaults } from '../../src/api/defaults.ts';
import type { ScalingSpec } from '../../src/api/workerpool-schema.ts';
import {
  backlogPerInstance,
  kedaHpaPolicy,
  KEDA_DEFAULT_LIST_LENGTH,
} from '../../src/simulator/baselines/keda-hpa-policy.ts';
import {
  JUDOSCALE_DEFAULT_DOWNSCALE_DELAY_SECONDS,
  judoscalePolicy,
} from '../../src/simulator/baselines/judoscale-policy.ts';
import { wpaPolicy } from '../../src/simulator/baselines/wpa-policy.ts';
import { enginePolicy, ENGINE_POLICY_NAME } from '../../src/simulator/engine-policy.ts';
import { meanServiceSeconds } from '../../src/simulator/service-time.ts';
import type { ScalingPolicy } from '../../src/simulator/simulation.ts';
import { signalProfile, type SignalProfileName } from '../../src/signals/signal-profile.ts';
import type { Scenario } from './scenarios.ts';

// Every online policy of the benchmark, configured from the scenario alone. The baselines get
// what their users would configure: KEDA its default listLength, then listLength from AWS's
// backlog-per-instance rule; WPA the same backlog target plus its rate rule; Judoscale a range
// around half the target. Our engine gets the pool's min/max, concurrency, target and pod
// start-up, and the schema's defaults for everything else. Pods go as the ReplicaSet removes
// them (newest ready first) for every policy, as the operator runs today; one engine row shows
// what pod-deletion-cost from heartbeats (idle first) adds, one the old 300 s down window.

export const ENGINE_IDLE_FIRST_NAME = `${ENGINE_POLICY_NAME}, idle first (pod-deletion-cost)`;
export const ENGINE_LONG_WINDOW_NAME = `${ENGINE_POLICY_NAME} (300 s down window)`;
export const LONG_DOWN_WINDOW_SECONDS = 300;

/** The pool's spec as a user who keeps the defaults writes it; `overrides` for the comparison rows. */
export function engineScaling(scenario: Scenario, overrides: { scaleDownWindowSeconds?: number } = {}): ScalingSpec {
  return applySpecDefaults({
    queue: { format: 'native', names: ['bench'], redis: { url: 'redis://bench:6379' } },
    scaling: {
      minReplicas: scenario.minReplicas,
      maxReplicas: scenario.maxReplicas,
      concurrency: scenario.concurrency,
      targetLatencySeconds: scenario.targetSeconds,
      podStartupSeconds: scenario.podStartupSeconds,
      ...(overrides.scaleDownWindowSeconds === undefined
        ? {}
        : { scaleDown: { stabilizationWindowSeconds: overrides.scaleDownWindowSeconds } }),
    },
  }).scaling;
}

/**
 * The signal profiles the engine is benchmarked under, one run each: what native, Sidekiq (its
 * shared stat:processed counter), BullMQ without `metrics`, a list with and without timestamps
 * and a stream really report. native is the engine row of the main table.
 */
export const BENCH_PROFILES: readonly SignalProfileName[] = [
  'native',
  'sidekiq',
  'bullmq',
  'list',
  'list+timestamp',
  'stream',
];

/** The engine once per signal profile (the native run is the main table's engine row). */
export function profilePolicies(scenario: Scenario): { profile: SignalProfileName; policy: ScalingPolicy }[] {
  return BENCH_PROFILES.filter((name) => name !== 'native').map((name) => ({
    profile: name,
    policy: enginePolicy(engineScaling(scenario), {
      name: `${ENGINE_POLICY_NAME} (${name})`,
      profile: signalProfile(name),
    }),
  }));
}

export function onlinePolicies(scenario: Scenario): ScalingPolicy[] {
  const meanService = meanServiceSeconds(scenario.service);
  const backlog = backlogPerInstance(scenario.targetSeconds, meanService, scenario.concurrency);
  const bounds = { minReplicas: scenario.minReplicas, maxReplicas: scenario.maxReplicas };
  return [
    enginePolicy(engineScaling(scenario)),
    { ...enginePolicy(engineScaling(scenario), { name: ENGINE_IDLE_FIRST_NAME }), scaleDownOrder: 'idle-first' },
    enginePolicy(engineScaling(scenario, { scaleDownWindowSeconds: LONG_DOWN_WINDOW_SECONDS }), {
      name: ENGINE_LONG_WINDOW_NAME,
    }),
    kedaHpaPolicy({
      name: `KEDA redis list (listLength ${KEDA_DEFAULT_LIST_LENGTH})`,
      listLength: KEDA_DEFAULT_LIST_LENGTH,
      ...bounds,
    }),
    kedaHpaPolicy({ name: `KEDA + AWS backlog rule (listLength ${backlog})`, listLength: backlog, ...bounds }),
    wpaPolicy({
      name: `practo WPA (${backlog} msgs/worker)`,
      targetMessagesPerWorker: backlog,
      secondsToProcessOneJob: meanService / scenario.concurrency,
      ...bounds,
    }),
    judoscalePolicy({
      name: 'Judoscale-style step',
      upperLatencySeconds: scenario.targetSeconds / 2,
      lowerLatencySeconds: scenario.targetSeconds / 10,
      upscaleJump: 1,
      upscaleFrequencySeconds: Math.max(10, scenario.podStartupSeconds),
      downscaleDelaySeconds: JUDOSCALE_DEFAULT_DOWNSCALE_DELAY_SECONDS,
      // Judoscale does not scale to zero.
      minReplicas: Math.max(1, scenario.minReplicas),
      maxReplicas: scenario.maxReplicas,
    }),
  ];
}
