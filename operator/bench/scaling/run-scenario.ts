import { comparePolicies } from '../../src/simulator/policy-comparison.ts';
import { pollLogCsv } from '../../src/simulator/poll-log.ts';
import { summarize, type RunSummary } from '../../src/simulator/run-summary.ts';
import { enginePolicy, type EnginePoll } from '../../src/simulator/engine-policy.ts';
import { simulate, type ScalingPolicy, type SimulationConfig } from '../../src/simulator/simulation.ts';
import { signalProfile, type SignalProfileName } from '../../src/signals/signal-profile.ts';
import { enginePolicies, engineScaling, profilePolicies, type HeartbeatVariant } from './policies.ts';
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
  /** The poll log (pollLogCsv) of the profile asked for with POLLS_VARIABLE, as CSV. */
  pollLog?: { profile: SignalProfileName; csv: string };
  seconds: number;
}

export interface ProfileRun {
  profile: SignalProfileName;
  summary: RunSummary;
}

export const CHART_LOAD_BUCKET_SECONDS = 30;

/**
 * One trace through every policy, then the engine under each of `profiles` (native is always the
 * engine row); with `pollsOf`, that profile's run once more, recording every poll.
 */
export function runScenario(
  scenario: Scenario,
  profiles: readonly SignalProfileName[],
  heartbeat: HeartbeatVariant = {},
  pollsOf?: SignalProfileName,
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
  const profileRuns = profilePolicies(scenario, profiles).map(({ profile, policy }) => ({
    profile,
    summary: summarize(
      simulate(profileSimulation(comparison.base, profile, policy, heartbeat)),
      scenario.targetSeconds,
    ),
  }));
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
    ...(pollsOf === undefined
      ? {}
      : { pollLog: { profile: pollsOf, csv: recordPolls(scenario, comparison.base, pollsOf, heartbeat) } }),
    seconds: (performance.now() - started) / 1000,
  };
}

/**
 * A profile row's run: the very jobs of the main table, on the trace's clock like its rows; a
 * profile whose counter moves at heartbeats gets a simulated counter that does the same.
 */
function profileSimulation(
  base: Omit<SimulationConfig, 'policy'>,
  profile: SignalProfileName,
  policy: ScalingPolicy,
  heartbeat: HeartbeatVariant,
): SimulationConfig {
  const beat = signalProfile(profile).completionHeartbeatSeconds;
  return {
    ...base,
    policy,
    ...(beat === undefined
      ? {}
      : {
          completionHeartbeatSeconds: heartbeat.seconds ?? beat,
          ...(heartbeat.phases === undefined ? {} : { heartbeatPhases: heartbeat.phases }),
        }),
  };
}

/** The engine's run under `profile` again, every poll recorded: the same run as its row, deterministic. */
function recordPolls(
  scenario: Scenario,
  base: Omit<SimulationConfig, 'policy'>,
  profile: SignalProfileName,
  heartbeat: HeartbeatVariant,
): string {
  const polls: EnginePoll[] = [];
  const policy = enginePolicy(engineScaling(scenario), {
    profile: signalProfile(profile),
    onPoll: (poll) => polls.push(poll),
  });
  const result = simulate(profileSimulation(base, profile, policy, heartbeat));
  return pollLogCsv({
    polls,
    arrivals: base.arrivals,
    waits: result.waits,
    targetSeconds: scenario.targetSeconds,
    ...(base.epochMs === undefined ? {} : { epochMs: base.epochMs }),
  });
}
