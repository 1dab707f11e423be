import { traceDurationSeconds } from '../../src/simulator/arrival-trace.ts';
import { runOracle, ORACLE_POLICY_NAME } from '../../src/simulator/baselines/oracle.ts';
import { generateJobs, workBoundReplicaSeconds } from '../../src/simulator/jobs.ts';
import { summarize, type RunSummary } from '../../src/simulator/run-summary.ts';
import { simulate, type SimulationResult } from '../../src/simulator/simulation.ts';
import { loadPerSecond, renderChart } from '../../src/simulator/svg-chart.ts';
import { onlinePolicies } from './policies.ts';
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
  chartSvg: string;
  seconds: number;
}

export const CHART_LOAD_BUCKET_SECONDS = 30;

export function runScenario(scenario: Scenario): ScenarioResult {
  const started = performance.now();
  const jobs = generateJobs({ trace: scenario.trace, service: scenario.service, seed: scenario.seed });
  const endSeconds = traceDurationSeconds(scenario.trace);
  const base = { ...jobs, concurrency: scenario.concurrency, podStartupSeconds: scenario.podStartupSeconds, initialReplicas: scenario.initialReplicas, endSeconds };
  const results: SimulationResult[] = onlinePolicies(scenario).map((policy) => simulate({ ...base, policy }));
  const oracle = runOracle(base, { targetSeconds: scenario.targetSeconds, concurrency: scenario.concurrency, minReplicas: scenario.minReplicas, maxReplicas: scenario.maxReplicas });
  const chartSvg = renderChart({
    title: `${scenario.name}: ${scenario.description}`,
    durationSeconds: endSeconds,
    load: loadPerSecond(jobs.arrivals, endSeconds, CHART_LOAD_BUCKET_SECONDS),
    loadBucketSeconds: CHART_LOAD_BUCKET_SECONDS,
    series: [...results, oracle.result].map((result) => ({ name: result.policy === ORACLE_POLICY_NAME ? ORACLE_POLICY_NAME : result.policy, points: result.replicas })),
  });
  return {
    scenario: scenario.name,
    description: scenario.description,
    jobs: jobs.arrivals.length,
    workBoundReplicaSeconds: workBoundReplicaSeconds(jobs, scenario.concurrency),
    oracle: summarize(oracle.result, scenario.targetSeconds),
    oracleRepairRounds: oracle.repairRounds,
    policies: results.map((result) => summarize(result, scenario.targetSeconds)),
    chartSvg,
    seconds: (performance.now() - started) / 1000,
  };
}
