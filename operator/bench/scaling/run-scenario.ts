import { traceDurationSeconds } from '../../src/simulator/arrival-trace.ts';
import { runOracle, ORACLE_POLICY_NAME } from '../../src/simulator/baselines/oracle.ts';
import { generateJobs, workBoundReplicaSeconds } from '../../src/simulator/jobs.ts';
import { summarize, type RunSummary } from '../../src/simulator/run-summary.ts';
import { simulate, type SimulationResult } from '../../src/simulator/simulation.ts';
import { loadPerSecond, renderChart } from '../../src/simulator/svg-chart.ts';
import { onlinePolicies, profilePolicies } from './policies.ts';
import type { SignalProfileName } from '../../src/signals/signal-profile.ts';
import type { Scenario } from './scenarios.ts';

// One scenario: the same jobs replayed through every policy, the oracle and the work bound.

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

export function runScenario(scenario: Scenario): ScenarioResult {
  const started = performance.now();
  const jobs = generateJobs({ trace: scenario.trace, service: scenario.service, seed: scenario.seed });
  const endSeconds = traceDurationSeconds(scenario.trace);
  const base = {
    ...jobs,
    concurrency: scenario.concurrency,
    podStartupSeconds: scenario.podStartupSeconds,
    initialReplicas: scenario.initialReplicas,
    endSeconds,
  };
  const results: SimulationResult[] = onlinePolicies(scenario).map((policy) => simulate({ ...base, policy }));
  const profileRuns = profilePolicies(scenario).map(({ profile, policy }) => ({
    profile,
    summary: summarize(simulate({ ...base, policy }), scenario.targetSeconds),
  }));
  const oracle = runOracle(base, {
    targetSeconds: scenario.targetSeconds,
    concurrency: scenario.concurrency,
    minReplicas: scenario.minReplicas,
    maxReplicas: scenario.maxReplicas,
  });
  const chartSvg = renderChart({
    title: `${scenario.name}: ${scenario.description}`,
    durationSeconds: endSeconds,
    load: loadPerSecond(jobs.arrivals, endSeconds, CHART_LOAD_BUCKET_SECONDS),
    loadBucketSeconds: CHART_LOAD_BUCKET_SECONDS,
    series: [...results, oracle.result].map((result) => ({
      name: result.policy === ORACLE_POLICY_NAME ? ORACLE_POLICY_NAME : result.policy,
      points: result.replicas,
    })),
  });
  return {
    scenario: scenario.name,
    description: scenario.description,
    jobs: jobs.arrivals.length,
    workBoundReplicaSeconds: workBoundReplicaSeconds(jobs, scenario.concurrency),
    oracle: summarize(oracle.result, scenario.targetSeconds),
    oracleRepairRounds: oracle.repairRounds,
    policies: results.map((result) => summarize(result, scenario.targetSeconds)),
    profiles: [
      { profile: 'native', summary: summarize(results[0] as SimulationResult, scenario.targetSeconds) },
      ...profileRuns,
    ],
    chartSvg,
    seconds: (performance.now() - started) / 1000,
  };
}
