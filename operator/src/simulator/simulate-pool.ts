import type { WorkerPoolSpec } from '../api/workerpool-schema.ts';
import { profileOfQueue } from '../signals/signal-profile.ts';
import { traceDurationSeconds, type ArrivalTrace } from './arrival-trace.ts';
import { enginePolicy } from './engine-policy.ts';
import { generateJobs, workBoundReplicaSeconds } from './jobs.ts';
import { summarize, type RunSummary } from './run-summary.ts';
import type { ServiceTimeSpec } from './service-time.ts';
import { simulate, type SimulationResult } from './simulation.ts';
import { loadPerSecond, renderChart } from './svg-chart.ts';

// One what-if run for the `simulate` command: a WorkerPool's spec, a trace and a service-time
// model through the engine, with a summary and a chart.

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

export function simulatePool(input: PoolSimulationInput): PoolSimulation {
  const scaling = input.spec.scaling;
  const jobs = generateJobs({ trace: input.trace, service: input.service, seed: input.seed });
  const endSeconds = traceDurationSeconds(input.trace);
  const result = simulate({
    ...jobs,
    concurrency: scaling.concurrency,
    podStartupSeconds: scaling.podStartupSeconds,
    initialReplicas: input.initialReplicas ?? input.spec.replicas ?? scaling.minReplicas,
    endSeconds,
    policy: enginePolicy(scaling, {
      profile: profileOfQueue(input.spec.queue),
      pinnedReplicas: input.spec.replicas,
      paused: input.spec.paused,
    }),
  });
  const chartSvg = renderChart({
    title: `${input.trace.name}: target ${scaling.targetLatencySeconds}s, concurrency ${scaling.concurrency}, start-up ${scaling.podStartupSeconds}s`,
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
