import { MinHeap } from '../min-heap.ts';
import { simulate, type PolicyDecision, type PolicyObservation, type ScalingPolicy, type SimulationConfig, type SimulationResult, type SimulatorView } from '../simulation.ts';

// The offline oracle: a policy that knows every future arrival and service time. It cannot be
// run online; it bounds what any online policy can achieve with the same start-up delay.
//
// 1. Plan with instant pods: every second, the fewest replicas such that every waiting job whose
//    deadline (arrival + target) falls within the next second still starts in time — checked by
//    replaying the queue head onto the slots those replicas would have (idle replicas are the
//    ones removed, busy ones drain). Capacity is added only when a deadline needs it, as late as
//    possible, so no replica-second is spent ahead of need.
// 2. Run the plan for real: the replicas needed at t are requested at t − start-up (the oracle
//    knows the future), so the Deployment is asked for the largest plan value of the next
//    start-up period. That also keeps a replica through any dip shorter than a start-up, which
//    costs less than starting a new one.
// 3. Verify by re-simulation; where a job still misses (the real run differs in which pod runs
//    what), add a replica just before its deadline and run again.

export const ORACLE_STEP_SECONDS = 1;
export const ORACLE_REPAIR_ROUNDS = 6;

export interface OracleOptions {
  targetSeconds: number;
  concurrency: number;
  minReplicas: number;
  maxReplicas: number;
}

export const ORACLE_POLICY_NAME = 'offline oracle';

/** Whether `replicas` serving replicas start every job due within the step in time. */
export function deadlinesMet(view: SimulatorView, replicas: number, options: OracleOptions): boolean {
  const now = view.nowSeconds();
  const horizon = now + ORACLE_STEP_SECONDS;
  const first = view.firstWaitingJob();
  const arrived = view.arrivedCount();
  if (first >= arrived || view.arrivalSeconds(first) + options.targetSeconds >= horizon) return true;
  const slots = new MinHeap<number>();
  const serving = view.servingSlotEnds();
  for (const ends of keptReplicas(serving, replicas)) {
    for (const end of ends) slots.push(end, end);
    for (let free = ends.length; free < options.concurrency; free += 1) slots.push(now, now);
  }
  for (let added = serving.length; added < replicas; added += 1) for (let slot = 0; slot < options.concurrency; slot += 1) slots.push(now, now);
  for (let job = first; job < arrived; job += 1) {
    const deadline = view.arrivalSeconds(job) + options.targetSeconds;
    if (deadline >= horizon) return true;
    if (slots.size === 0) return false;
    const free = slots.pop() as number;
    const start = Math.max(free, now);
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

function fewestReplicas(view: SimulatorView, options: OracleOptions): number {
  let low = options.minReplicas;
  let high = options.maxReplicas;
  if (!deadlinesMet(view, high, options)) return high;
  while (low < high) {
    const middle = (low + high) >> 1;
    if (deadlinesMet(view, middle, options)) high = middle;
    else low = middle + 1;
  }
  return low;
}

/** Step 1: the per-second plan, from a run where replicas start instantly. */
export function planReplicas(config: Omit<SimulationConfig, 'policy' | 'podStartupSeconds'>, options: OracleOptions): number[] {
  const plan: number[] = [];
  const planner: ScalingPolicy = {
    name: 'oracle plan',
    intervalSeconds: ORACLE_STEP_SECONDS,
    decide(observation: PolicyObservation): PolicyDecision {
      const replicas = fewestReplicas(observation.view, options);
      plan.push(replicas);
      return { replicas };
    },
  };
  simulate({ ...config, podStartupSeconds: 0, policy: planner });
  return plan;
}

/** Step 2: what to ask for at each step: the most the plan needs within the next start-up. */
export function requestedReplicas(plan: number[], startupSeconds: number): number[] {
  const ahead = Math.ceil(startupSeconds / ORACLE_STEP_SECONDS);
  return plan.map((_, index) => {
    let most = 0;
    for (let step = index; step <= Math.min(plan.length - 1, index + ahead); step += 1) most = Math.max(most, plan[step] as number);
    return most;
  });
}

function schedulePolicy(requests: number[]): ScalingPolicy {
  let step = 0;
  return {
    name: ORACLE_POLICY_NAME,
    intervalSeconds: ORACLE_STEP_SECONDS,
    decide(): PolicyDecision {
      const replicas = requests[Math.min(step, requests.length - 1)] ?? 0;
      step += 1;
      return { replicas };
    },
  };
}

/** Seconds (plan steps) just before the deadline of each job that missed it. */
function repairSteps(result: SimulationResult, arrivals: Float64Array, targetSeconds: number): Set<number> {
  const steps = new Set<number>();
  result.waits.forEach((wait, job) => {
    if (wait > targetSeconds) steps.add(Math.max(0, Math.floor((arrivals[job] as number) + targetSeconds - ORACLE_STEP_SECONDS)));
  });
  return steps;
}

export interface OracleRun {
  result: SimulationResult;
  plan: number[];
  repairRounds: number;
}

export function runOracle(config: Omit<SimulationConfig, 'policy'>, options: OracleOptions): OracleRun {
  const plan = planReplicas(config, options);
  let rounds = 0;
  for (;;) {
    const result = simulate({ ...config, policy: schedulePolicy(requestedReplicas(plan, config.podStartupSeconds)) });
    const repairs = repairSteps(result, config.arrivals, options.targetSeconds);
    if (repairs.size === 0 || rounds >= ORACLE_REPAIR_ROUNDS) return { result, plan, repairRounds: rounds };
    for (const step of repairs) {
      for (let index = Math.max(0, step - 1); index <= Math.min(plan.length - 1, step); index += 1) plan[index] = Math.min(options.maxReplicas, (plan[index] as number) + 1);
    }
    rounds += 1;
  }
}
