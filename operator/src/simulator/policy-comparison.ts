import { traceDurationSeconds, traceEpochMs, type ArrivalTrace } from './arrival-trace.ts';
import { judoscalePolicy, JUDOSCALE_DEFAULT_DOWNSCALE_DELAY_SECONDS } from './baselines/judoscale-policy.ts';
import { backlogPerInstance, kedaHpaPolicy, KEDA_DEFAULT_LIST_LENGTH } from './baselines/keda-hpa-policy.ts';
import { runOracle } from './baselines/oracle.ts';
import { wpaPolicy } from './baselines/wpa-policy.ts';
import { generateJobs, workBoundReplicaSeconds, type Jobs } from './jobs.ts';
import { summarize, type RunSummary } from './run-summary.ts';
import { meanServiceSeconds, type ServiceTimeSpec } from './service-time.ts';
import { simulate, type ScalingPolicy, type SimulationConfig, type SimulationResult } from './simulation.ts';
import { loadPerSecond, renderChart } from './svg-chart.ts';

// The one home of "every policy on the same jobs": the scaling benchmark and
// `workerpool-operator simulate --compare` both call it, so they cannot disagree on how a
// baseline is configured, how the oracle runs or what a row means.

/** What a pool is, as far as the baselines and the oracle need to know it. */
export interface ComparedPool {
  minReplicas: number;
  maxReplicas: number;
  concurrency: number;
  targetSeconds: number;
  podStartupSeconds: number;
  service: ServiceTimeSpec;
}

/**
 * The baselines as their users configure them: KEDA its default listLength, then listLength
 * from AWS's backlog-per-instance rule; WPA the same backlog target plus its rate rule;
 * Judoscale a range around half the target. Pods go as the ReplicaSet removes them.
 */
export function baselinePolicies(pool: ComparedPool): ScalingPolicy[] {
  const meanService = meanServiceSeconds(pool.service);
  const backlog = backlogPerInstance(pool.targetSeconds, meanService, pool.concurrency);
  const bounds = { minReplicas: pool.minReplicas, maxReplicas: pool.maxReplicas };
  return [
    kedaHpaPolicy({
      name: `KEDA redis list (listLength ${KEDA_DEFAULT_LIST_LENGTH})`,
      listLength: KEDA_DEFAULT_LIST_LENGTH,
      ...bounds,
    }),
    kedaHpaPolicy({ name: `KEDA + AWS backlog rule (listLength ${backlog})`, listLength: backlog, ...bounds }),
    wpaPolicy({
      name: `practo WPA (${backlog} msgs/worker)`,
      targetMessagesPerWorker: backlog,
      secondsToProcessOneJob: meanService / pool.concurrency,
      ...bounds,
    }),
    judoscalePolicy({
      name: 'Judoscale-style step',
      upperLatencySeconds: pool.targetSeconds / 2,
      lowerLatencySeconds: pool.targetSeconds / 10,
      upscaleJump: 1,
      upscaleFrequencySeconds: Math.max(10, pool.podStartupSeconds),
      downscaleDelaySeconds: JUDOSCALE_DEFAULT_DOWNSCALE_DELAY_SECONDS,
      // Judoscale does not scale to zero.
      minReplicas: Math.max(1, pool.minReplicas),
      maxReplicas: pool.maxReplicas,
    }),
  ];
}

export interface ComparisonInput {
  pool: ComparedPool;
  trace: ArrivalTrace;
  seed: number;
  /** Replicas ready at second 0, the same for every policy. */
  initialReplicas: number;
  /** The engine rows, first; the baselines follow. */
  enginePolicies: ScalingPolicy[];
  chartTitle: string;
  chartBucketSeconds: number;
  /** The pool's completion counter moves at heartbeats this far apart (its signal profile's). */
  completionHeartbeatSeconds?: number | undefined;
}

export interface Comparison {
  jobs: Jobs;
  /** The simulation every row ran (jobs, pool, trace clock), for further runs on the same jobs. */
  base: Omit<SimulationConfig, 'policy'>;
  workBoundReplicaSeconds: number;
  /** One summary per policy, engine rows first, in the order of `results`. */
  policies: RunSummary[];
  results: SimulationResult[];
  oracle: RunSummary;
  oracleResult: SimulationResult;
  oracleRepairRounds: number;
  chartSvg: string;
}

/** The same jobs through the engine rows, every baseline and the offline oracle, with a chart. */
export function comparePolicies(input: ComparisonInput): Comparison {
  const { pool } = input;
  const jobs = generateJobs({ trace: input.trace, service: pool.service, seed: input.seed });
  const endSeconds = traceDurationSeconds(input.trace);
  const base: Omit<SimulationConfig, 'policy'> = {
    ...jobs,
    concurrency: pool.concurrency,
    podStartupSeconds: pool.podStartupSeconds,
    initialReplicas: input.initialReplicas,
    endSeconds,
    epochMs: traceEpochMs(input.trace),
    completionHeartbeatSeconds: input.completionHeartbeatSeconds,
  };
  const results = [...input.enginePolicies, ...baselinePolicies(pool)].map((policy) => simulate({ ...base, policy }));
  const oracle = runOracle(base, {
    targetSeconds: pool.targetSeconds,
    concurrency: pool.concurrency,
    minReplicas: pool.minReplicas,
    maxReplicas: pool.maxReplicas,
  });
  const chartSvg = renderChart({
    title: input.chartTitle,
    durationSeconds: endSeconds,
    load: loadPerSecond(jobs.arrivals, endSeconds, input.chartBucketSeconds),
    loadBucketSeconds: input.chartBucketSeconds,
    series: [...results, oracle.result].map((result) => ({ name: result.policy, points: result.replicas })),
  });
  return {
    jobs,
    base,
    workBoundReplicaSeconds: workBoundReplicaSeconds(jobs, pool.concurrency),
    policies: results.map((result) => summarize(result, pool.targetSeconds)),
    results,
    oracle: summarize(oracle.result, pool.targetSeconds),
    oracleResult: oracle.result,
    oracleRepairRounds: oracle.repairRounds,
    chartSvg,
  };
}
