import { applySpecDefaults } from '../../src/api/defaults.ts';
import type { ScalingSpec } from '../../src/api/workerpool-schema.ts';
import { enginePolicy, ENGINE_POLICY_NAME } from '../../src/simulator/engine-policy.ts';
import type { HeartbeatPhases, ScalingPolicy } from '../../src/simulator/simulation.ts';
import { signalProfile, type SignalProfileName } from '../../src/signals/signal-profile.ts';
import type { Scenario } from './scenarios.ts';

// The engine rows of the benchmark, configured from the scenario alone (the baselines come from
// baselinePolicies in operator/src/simulator/policy-comparison.ts). Our engine gets the pool's
// min/max, concurrency, target and pod start-up, and the schema's defaults for everything else. Pods go as the ReplicaSet removes
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

/** The environment variable that names the profiles to run (comma-separated), all by default. */
export const PROFILES_VARIABLE = 'BENCH_SCALING_PROFILES';

/**
 * The profiles a run asks for, from PROFILES_VARIABLE: every one of BENCH_PROFILES when unset
 * or empty; native always, since its row is the main table's engine and the others are read
 * against it. A name that is no profile fails the run, naming the variable.
 */
export function requestedProfiles(value: string | undefined): readonly SignalProfileName[] {
  const names = (value ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter((name) => name !== '');
  if (names.length === 0) return BENCH_PROFILES;
  const unknown = names.filter((name) => !BENCH_PROFILES.some((profile) => profile === name));
  if (unknown.length > 0)
    throw new Error(
      `${PROFILES_VARIABLE}: ${unknown.map((name) => JSON.stringify(name)).join(', ')} is not a profile (one of ${BENCH_PROFILES.join(', ')})`,
    );
  return BENCH_PROFILES.filter((profile) => profile === 'native' || names.includes(profile));
}

/**
 * The environment variable that asks for more draws of every trace (a whole number, 1 by
 * default): the same load shape with other random jobs, to tell a verdict that holds from one
 * that is the luck of one draw (scenarioDraw).
 */
export const DRAWS_VARIABLE = 'BENCH_SCALING_DRAWS';

/** The draws DRAWS_VARIABLE asks for; anything but a whole number from 1 fails the run, naming it. */
export function requestedDraws(value: string | undefined): number {
  if (value === undefined || value.trim() === '') return 1;
  const draws = Number(value);
  if (!Number.isInteger(draws) || draws < 1)
    throw new Error(`${DRAWS_VARIABLE}: ${JSON.stringify(value)} is not a whole number of draws from 1`);
  return draws;
}

/**
 * The n-th draw of a scenario: the first is the scenario itself (the tables' run); the others
 * seed its jobs' arrivals and service times otherwise, over the same trace.
 */
export function scenarioDraw(scenario: Scenario, draw: number): Scenario {
  return draw <= 1 ? scenario : { ...scenario, seed: scenario.seed * 1000 + draw };
}

/**
 * The environment variable that names one profile whose run bench:scaling also writes poll by
 * poll (pollLogCsv), to bench-results/scaling-<trace>-<profile>-polls.csv.
 */
export const POLLS_VARIABLE = 'BENCH_SCALING_POLLS';

/** The profile POLLS_VARIABLE names, if any; a name that is no profile fails the run, naming the variable. */
export function requestedPollsProfile(value: string | undefined): SignalProfileName | undefined {
  const name = (value ?? '').trim();
  if (name === '') return undefined;
  const profile = BENCH_PROFILES.find((candidate) => candidate === name);
  if (profile === undefined)
    throw new Error(
      `${POLLS_VARIABLE}: ${JSON.stringify(name)} is not a profile (one of ${BENCH_PROFILES.join(', ')})`,
    );
  return profile;
}

/** Variables that replay a heartbeat profile's pods as another Sidekiq would beat (README). */
export const HEARTBEAT_SECONDS_VARIABLE = 'BENCH_SIDEKIQ_HEARTBEAT_SECONDS';
export const HEARTBEAT_PHASE_VARIABLE = 'BENCH_SIDEKIQ_HEARTBEAT_PHASE';

/** How a heartbeat profile's simulated pods beat, where a run asks for other than the profile's. */
export interface HeartbeatVariant {
  /** 5 for Sidekiq 6.x; the profile's 10 (Sidekiq 7 and 8) when unset. */
  seconds?: number;
  /** `spread`, or every pod's beat at this part of the period, in step; in cohorts when unset. */
  phases?: Exclude<HeartbeatPhases, 'cohorts'>;
}

/** The heartbeat variant from its variables; a value that is not a number in range fails, naming it. */
export function requestedHeartbeat(env: Readonly<Record<string, string | undefined>>): HeartbeatVariant {
  const seconds = env[HEARTBEAT_SECONDS_VARIABLE];
  const phase = env[HEARTBEAT_PHASE_VARIABLE];
  const variant: HeartbeatVariant = {};
  if (seconds !== undefined && seconds !== '') {
    const value = Number(seconds);
    if (!Number.isFinite(value) || value <= 0)
      throw new Error(`${HEARTBEAT_SECONDS_VARIABLE}: ${JSON.stringify(seconds)} is not a positive number of seconds`);
    variant.seconds = value;
  }
  if (phase === 'spread') variant.phases = 'spread';
  else if (phase !== undefined && phase !== '') {
    const value = Number(phase);
    if (!Number.isFinite(value) || value < 0 || value >= 1)
      throw new Error(
        `${HEARTBEAT_PHASE_VARIABLE}: ${JSON.stringify(phase)} is neither "spread" nor a part of the period in [0, 1)`,
      );
    variant.phases = value;
  }
  return variant;
}

/** The engine once per signal profile asked for (the native run is the main table's engine row). */
export function profilePolicies(
  scenario: Scenario,
  profiles: readonly SignalProfileName[] = BENCH_PROFILES,
): { profile: SignalProfileName; policy: ScalingPolicy }[] {
  return profiles
    .filter((name) => name !== 'native')
    .map((name) => ({
      profile: name,
      policy: enginePolicy(engineScaling(scenario), {
        name: `${ENGINE_POLICY_NAME} (${name})`,
        profile: signalProfile(name),
      }),
    }));
}

/** The engine rows of the main table: the schema's defaults, idle first, the 300 s window. */
export function enginePolicies(scenario: Scenario): ScalingPolicy[] {
  return [
    enginePolicy(engineScaling(scenario)),
    { ...enginePolicy(engineScaling(scenario), { name: ENGINE_IDLE_FIRST_NAME }), scaleDownOrder: 'idle-first' },
    enginePolicy(engineScaling(scenario, { scaleDownWindowSeconds: LONG_DOWN_WINDOW_SECONDS }), {
      name: ENGINE_LONG_WINDOW_NAME,
    }),
  ];
}
