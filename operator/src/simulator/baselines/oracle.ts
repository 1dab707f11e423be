import { MinHeap } from '../min-heap.ts';
import {
  simulate,
  type PolicyDecision,
  type PolicyObservation,
  type ScalingPolicy,
  type SimulationConfig,
  type SimulationResult,
  type SimulatorView,
} from '../simulation.ts';

// The offline oracle: a policy that knows every future arrival and service time. It cannot be
// run online; it bounds what any online policy can achieve with the same start-up delay.
//
// Waiting costs nothing as long as a job starts by its deadline (arrival + target), and a
// replica costs the same whether its slots run jobs early or late, so the cheapest pool is the
// one that starts each job as late as its deadline allows: its queue never empties, no slot
// idles, and the replica-seconds approach the work bound plus start-ups and drains.
//
// 1. Plan with instant pods, in segments: at the start of each segment, the fewest replicas that,
//    held for the whole segment, start every job whose deadline falls within it in time —
//    checked by replaying the known jobs onto the slots those replicas would have (idle replicas
//    are the ones removed, busy ones drain). Longer segments change the pool less often (fewer
//    start-ups and drains) but must cover their busiest moment.
// 2. Run the plan for real: the replicas needed at t are requested a start-up earlier (the
//    oracle knows the future), so the Deployment is asked for the largest plan value of the
//    next start-up period.
// 3. Verify by re-simulation; where a job still misses (the real run differs in which pod runs
//    what), add a replica just before its deadline and run again.
// Every segment length is tried; the cheapest run that meets every deadline is the oracle.

export const ORACLE_SEGMENTS_SECONDS = [1, 5, 10, 20, 30, 60, 90, 120, 180];
export const ORACLE_REPAIR_ROUNDS = 6;
export const ORACLE_POLICY_NAME = 'offline oracle';
/**
 * The oracle removes only pods whose jobs it knows will finish: its drains are never cut off, so
 * it is the bound the online policies are measured against, interruptions and all.
 */
export const ORACLE_GRACE_PERIOD_SECONDS = Infinity;

export interface OracleOptions {
  targetSeconds: number;
  concurrency: number;
  minReplicas: number;
  maxReplicas: number;
}

/** Whether `replicas` serving replicas, held for `segmentSeconds`, start every job due by then in time. */
export function deadlinesMet(
  view: SimulatorView,
  replicas: number,
  segmentSeconds: number,
  options: OracleOptions,
): boolean {
  const now = view.nowSeconds();
  const horizon = now + segmentSeconds;
  const first = view.firstWaitingJob();
  const jobs = view.jobCount();
  if (first >= jobs || view.arrivalSeconds(first) + options.targetSeconds >= horizon) return true;
  const slots = new MinHeap<number>();
  const serving = view.servingSlotEnds();
  for (const ends of keptReplicas(serving, replicas)) {
    for (const end of ends) slots.push(end, end);
    for (let free = ends.length; free < options.concurrency; free += 1) slots.push(now, now);
  }
  for (let added = serving.length; added < replicas; added += 1)
    for (let slot = 0; slot < options.concurrency; slot += 1) slots.push(now, now);
  for (let job = first; job < jobs; job += 1) {
    const arrival = view.arrivalSeconds(job);
    const deadline = arrival + options.targetSeconds;
    if (deadline >= horizon) return true;
    if (slots.size === 0) return false;
    const start = Math.max(slots.pop() as number, arrival, now);
    if (start > deadline) return false;
    const end = start + view.serviceSeconds(job);
    slots.push(end, end);
  }
  return true;
}

/** The replicas kept when scaling to `replicas`: the busiest ones (idle ones go first). */
function keptReplicas(serving: number[][], replicas: number): number[][] {
  if (replicas >= serving.length) return serving;
  return [...serving].sort((a, b) => b.length - a.length).slice(0, replicas);
}

function fewestReplicas(view: SimulatorView, segmentSeconds: number, options: OracleOptions): number {
  let low = options.minReplicas;
  let high = options.maxReplicas;
  if (!deadlinesMet(view, high, segmentSeconds, options)) return high;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (deadlinesMet(view, middle, segmentSeconds, options)) high = middle;
    else low = middle + 1;
  }
  return low;
}

/** Step 1: replicas needed in each second, planned in segments with instant pods. */
export function planReplicas(
  config: Omit<SimulationConfig, 'policy' | 'podStartupSeconds'>,
  options: OracleOptions,
  segmentSeconds: number,
): number[] {
  const plan: number[] = [];
  const planner: ScalingPolicy = {
    name: 'oracle plan',
    intervalSeconds: segmentSeconds,
    scaleDownOrder: 'idle-first',
    decide(observation: PolicyObservation): PolicyDecision {
      const replicas = fewestReplicas(observation.view, segmentSeconds, options);
      for (let second = 0; second < segmentSeconds; second += 1) plan.push(replicas);
      return { replicas };
    },
  };
  simulate({ ...config, podStartupSeconds: 0, gracePeriodSeconds: ORACLE_GRACE_PERIOD_SECONDS, policy: planner });
  return plan;
}

/** Step 2: what to ask for each second: the most the plan needs within the next start-up. */
export function requestedReplicas(plan: number[], startupSeconds: number): number[] {
  const ahead = Math.ceil(startupSeconds);
  return plan.map((_, index) => {
    let most = 0;
    for (let step = index; step <= Math.min(plan.length - 1, index + ahead); step += 1)
      most = Math.max(most, plan[step] as number);
    return most;
  });
}

function schedulePolicy(requests: number[]): ScalingPolicy {
  let step = 0;
  return {
    name: ORACLE_POLICY_NAME,
    intervalSeconds: 1,
    // The oracle picks which pods go: the idle ones, as pod-deletion-cost would.
    scaleDownOrder: 'idle-first',
    decide(): PolicyDecision {
      const replicas = requests[Math.min(step, requests.length - 1)] ?? 0;
      step += 1;
      return { replicas };
    },
  };
}

/** Seconds just before the deadline of each job that missed it. */
function repairSteps(result: SimulationResult, arrivals: Float64Array, targetSeconds: number): Set<number> {
  const steps = new Set<number>();
  result.waits.forEach((wait, job) => {
    if (wait > targetSeconds) steps.add(Math.max(0, Math.floor((arrivals[job] as number) + targetSeconds - 1)));
  });
  return steps;
}

export interface OracleRun {
  result: SimulationResult;
  plan: number[];
  repairRounds: number;
  segmentSeconds: number;
}

/** Runs a plan, adding a replica before each missed deadline, until no job misses. */
function runPlan(
  config: Omit<SimulationConfig, 'policy'>,
  options: OracleOptions,
  initial: number[],
): { result: SimulationResult; plan: number[]; rounds: number } {
  const plan = [...initial];
  let rounds = 0;
  for (;;) {
    const result = simulate({
      ...config,
      gracePeriodSeconds: ORACLE_GRACE_PERIOD_SECONDS,
      policy: schedulePolicy(requestedReplicas(plan, config.podStartupSeconds)),
    });
    const repairs = repairSteps(result, config.arrivals, options.targetSeconds);
    if (repairs.size === 0 || rounds >= ORACLE_REPAIR_ROUNDS) return { result, plan, rounds };
    for (const step of repairs) {
      for (let index = Math.max(0, step - 1); index <= Math.min(plan.length - 1, step); index += 1)
        plan[index] = Math.min(options.maxReplicas, (plan[index] as number) + 1);
    }
    rounds += 1;
  }
}

export function missedDeadlines(result: SimulationResult, targetSeconds: number): number {
  let count = 0;
  for (const wait of result.waits) if (wait > targetSeconds) count += 1;
  return count;
}

export function runOracle(
  config: Omit<SimulationConfig, 'policy'>,
  options: OracleOptions,
  segments: number[] = ORACLE_SEGMENTS_SECONDS,
): OracleRun {
  let best: OracleRun | undefined;
  for (const segmentSeconds of segments) {
    const run = runPlan(config, options, planReplicas(config, options, segmentSeconds));
    const candidate: OracleRun = { result: run.result, plan: run.plan, repairRounds: run.rounds, segmentSeconds };
    if (best === undefined || isBetter(candidate, best, options.targetSeconds)) best = candidate;
  }
  return best as OracleRun;
}

/** Fewer missed deadlines first, then fewer replica-seconds. */
function isBetter(candidate: OracleRun, best: OracleRun, targetSeconds: number): boolean {
  const missedCandidate = missedDeadlines(candidate.result, targetSeconds);
  const missedBest = missedDeadlines(best.result, targetSeconds);
  if (missedCandidate !== missedBest) return missedCandidate < missedBest;
  return candidate.result.replicaSeconds < best.result.replicaSeconds;
}
