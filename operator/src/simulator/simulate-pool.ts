import type { WorkerPoolSpec } from '../api/workerpool-schema.ts';
import { profileOfQueue } from '../signals/signal-profile.ts';
import { traceDurationSeconds, traceEpochMs, type ArrivalTrace } from './arrival-trace.ts';
import { enginePolicy, ENGINE_POLICY_NAME } from './engine-policy.ts';
import { generateJobs, workBoundReplicaSeconds } from './jobs.ts';
import { comparePolicies, type Comparison } from './policy-comparison.ts';
import { summarize, type RunSummary } from './run-summary.ts';
import type { ServiceTimeSpec } from './service-time.ts';
import { simulate, type ScalingPolicy, type SimulationResult } from './simulation.ts';
import { loadPerSecond, renderChart } from './svg-chart.ts';

// What-if runs for the `simulate` command: a WorkerPool's spec, a trace and a service-time
// model through the engine (with a summary and a chart), or, with --compare, through the engine,
// every baseline and the oracle on the same jobs.

export interface PoolSimulationInput {
  spec: WorkerPoolSpec;
  trace: ArrivalTrace;
  service: ServiceTimeSpec;
  seed: number;
  /** Replicas ready at second 0 (default: minReplicas). */
  initialReplicas?: number;
}

export interface PoolSimulation {
  summary: RunSummary;
  result: SimulationResult;
  workBoundReplicaSeconds: number;
  peakReplicas: number;
  chartSvg: string;
}

export const SIMULATE_CHART_BUCKET_SECONDS = 10;

/**
 * The engine as the operator runs this pool: its spec, its format's signals, and pods removed
 * idle first where the format reports per-pod busy counts (the operator's default
 * --idle-first-scale-down), newest ready first where it does not.
 */
export function poolEnginePolicy(spec: WorkerPoolSpec, name = ENGINE_POLICY_NAME): ScalingPolicy {
  const profile = profileOfQueue(spec.queue);
  return {
    ...enginePolicy(spec.scaling, { name, profile, pinnedReplicas: spec.replicas, paused: spec.paused }),
    scaleDownOrder: profile.heartbeats ? 'idle-first' : 'newest-ready',
  };
}

function chartTitle(input: PoolSimulationInput): string {
  const scaling = input.spec.scaling;
  return `${input.trace.name}: target ${scaling.targetLatencySeconds}s, concurrency ${scaling.concurrency}, start-up ${scaling.podStartupSeconds}s`;
}

function initialReplicasOf(input: PoolSimulationInput): number {
  return input.initialReplicas ?? input.spec.replicas ?? input.spec.scaling.minReplicas;
}

export function simulatePool(input: PoolSimulationInput): PoolSimulation {
  const scaling = input.spec.scaling;
  const jobs = generateJobs({ trace: input.trace, service: input.service, seed: input.seed });
  const endSeconds = traceDurationSeconds(input.trace);
  const result = simulate({
    ...jobs,
    concurrency: scaling.concurrency,
    podStartupSeconds: scaling.podStartupSeconds,
    initialReplicas: initialReplicasOf(input),
    endSeconds,
    epochMs: traceEpochMs(input.trace),
    policy: poolEnginePolicy(input.spec),
    // A Sidekiq pool's counter moves at heartbeats, as its reader reports it.
    completionHeartbeatSeconds: profileOfQueue(input.spec.queue).completionHeartbeatSeconds,
  });
  const chartSvg = renderChart({
    title: chartTitle(input),
    durationSeconds: endSeconds,
    load: loadPerSecond(jobs.arrivals, endSeconds, SIMULATE_CHART_BUCKET_SECONDS),
    loadBucketSeconds: SIMULATE_CHART_BUCKET_SECONDS,
    series: [{ name: result.policy, points: result.replicas }],
  });
  return {
    summary: summarize(result, scaling.targetLatencySeconds),
    result,
    workBoundReplicaSeconds: workBoundReplicaSeconds(jobs, scaling.concurrency),
    peakReplicas: Math.max(0, ...result.replicas.map((point) => point.replicas)),
    chartSvg,
  };
}

export const POOL_ENGINE_ROW_NAME = `${ENGINE_POLICY_NAME} (this pool's settings)`;
export const POOL_PREDICTIVE_ROW_NAME = `${ENGINE_POLICY_NAME} (predictive enabled)`;
export const POOL_REACTIVE_ROW_NAME = `${ENGINE_POLICY_NAME} (predictive disabled)`;

/**
 * The row beside the pool's own: the same settings with scaling.predictive enabled, or, for a pool
 * that has it enabled already, disabled — what the learned pattern gains or costs on this traffic.
 */
export function predictiveCounterpart(spec: WorkerPoolSpec): ScalingPolicy {
  const on = spec.scaling.predictive === 'enabled';
  return poolEnginePolicy(
    { ...spec, scaling: { ...spec.scaling, predictive: on ? 'disabled' : 'enabled' } },
    on ? POOL_REACTIVE_ROW_NAME : POOL_PREDICTIVE_ROW_NAME,
  );
}

/** The pool's own settings and its predictive counterpart, every baseline and the offline oracle on the same jobs. */
export function comparePool(input: PoolSimulationInput): Comparison {
  const scaling = input.spec.scaling;
  return comparePolicies({
    pool: {
      minReplicas: scaling.minReplicas,
      maxReplicas: scaling.maxReplicas,
      concurrency: scaling.concurrency,
      targetSeconds: scaling.targetLatencySeconds,
      podStartupSeconds: scaling.podStartupSeconds,
      service: input.service,
    },
    trace: input.trace,
    seed: input.seed,
    initialReplicas: initialReplicasOf(input),
    enginePolicies: [poolEnginePolicy(input.spec, POOL_ENGINE_ROW_NAME), predictiveCounterpart(input.spec)],
    chartTitle: chartTitle(input),
    chartBucketSeconds: SIMULATE_CHART_BUCKET_SECONDS,
    completionHeartbeatSeconds: profileOfQueue(input.spec.queue).completionHeartbeatSeconds,
  });
}
