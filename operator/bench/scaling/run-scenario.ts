import { comparePolicies } from '../../src/simulator/policy-comparison.ts';
import { summarize, type RunSummary } from '../../src/simulator/run-summary.ts';
import { simulate } from '../../src/simulator/simulation.ts';
import { signalProfile, type SignalProfileName } from '../../src/signals/signal-profile.ts';
import { enginePolicies, profilePolicies, type HeartbeatVariant } from './policies.ts';
import type { Scenario } from './scenarios.ts';

// One scenario: the same jobs replayed through every policy, the oracle and the work bound
// (comparePolicies, as `simulate --compare` runs them), then the engine once per signal profile.

export interface ScenarioResult {
  scenario: string;
  description: string;
  jobs: number;
  workBoundReplicaSeconds: number;
  oracle: RunSummary;
  oracleRepairRounds: number;
  policies: RunSummary[];
  /** The engine under each signal profile, native first (the same run as its policies row). */
  profiles: ProfileRun[];
  chartSvg: string;
  seconds: number;
}

export interface ProfileRun {
  profile: SignalProfileName;
  summary: RunSummary;
}

export const CHART_LOAD_BUCKET_SECONDS = 30;

/** One trace through every policy, then the engine under each of `profiles` (native is always the engine row). */
export function runScenario(
  scenario: Scenario,
  profiles: readonly SignalProfileName[],
  heartbeat: HeartbeatVariant = {},
): ScenarioResult {
  const started = performance.now();
  const comparison = comparePolicies({
    pool: scenario,
    trace: scenario.trace,
    seed: scenario.seed,
    initialReplicas: scenario.initialReplicas,
    enginePolicies: enginePolicies(scenario),
    chartTitle: `${scenario.name}: ${scenario.description}`,
    chartBucketSeconds: CHART_LOAD_BUCKET_SECONDS,
  });
  // The profile rows replay the very jobs of the main table, on the trace's clock like its rows;
  // a profile whose counter moves at heartbeats gets a simulated counter that does the same.
  const profileRuns = profilePolicies(scenario, profiles).map(({ profile, policy }) => {
    const beat = signalProfile(profile).completionHeartbeatSeconds;
    return {
      profile,
      summary: summarize(
        simulate({
          ...comparison.base,
          policy,
          ...(beat === undefined
            ? {}
            : {
                completionHeartbeatSeconds: heartbeat.seconds ?? beat,
                ...(heartbeat.phases === undefined ? {} : { heartbeatPhases: heartbeat.phases }),
              }),
        }),
        scenario.targetSeconds,
      ),
    };
  });
  return {
    scenario: scenario.name,
    description: scenario.description,
    jobs: comparison.jobs.arrivals.length,
    workBoundReplicaSeconds: comparison.workBoundReplicaSeconds,
    oracle: comparison.oracle,
    oracleRepairRounds: comparison.oracleRepairRounds,
    policies: comparison.policies,
    profiles: [{ profile: 'native', summary: comparison.policies[0] as RunSummary }, ...profileRuns],
    chartSvg: comparison.chartSvg,
    seconds: (performance.now() - started) / 1000,
  };
}
