import type { PolicyDecision, PolicyObservation, ScalingPolicy } from '../simulation.ts';

// practo's Worker Pod Autoscaler (k8s-worker-pod-autoscaler, GetDesiredWorkers), as its
// controller computes it every resync period (20 s):
// - minimum from the rate: workers = ceil(secondsToProcessOneJob × messagesSentPerMinute / 60),
//   raising minReplicas when secondsToProcessOneJob is set;
// - from the backlog: desired = ceil(queueMessages / targetMessagesPerWorker), kept at the
//   current count when within the 0.1 tolerance;
// - no backlog but messages still sent: the rate minimum; nothing sent and every worker idle:
//   scale to the minimum at once; otherwise down to the minimum;
// - a scale-down removes at most maxDisruption (default 100 %) of the current workers at once.
// queueMessages is the visible backlog (SQS ApproximateNumberOfMessages), messagesSentPerMinute
// the producer-side count over the last minute (CloudWatch NumberOfMessagesSent).

export const WPA_RESYNC_PERIOD_SECONDS = 20;
export const WPA_TOLERANCE = 0.1;
export const WPA_DEFAULT_MAX_DISRUPTION_PERCENT = 100;

export interface WpaOptions {
  name: string;
  targetMessagesPerWorker: number;
  /** Seconds one worker (pod) needs per job: service time / concurrency for pods running several at once. */
  secondsToProcessOneJob: number;
  minReplicas: number;
  maxReplicas: number;
  maxDisruptionPercent?: number;
}

export interface WpaInput {
  queueMessages: number;
  messagesSentPerMinute: number;
  currentWorkers: number;
  idleWorkers: number;
}

function convertWithRules(current: number, desired: number, min: number, max: number, maxDisruptable: number): number {
  if (min >= max) return max;
  const limited = current - desired > maxDisruptable ? current - maxDisruptable : desired;
  return Math.min(max, Math.max(min, limited));
}

export function wpaDesiredWorkers(options: WpaOptions, input: WpaInput): number {
  const { queueMessages, messagesSentPerMinute, currentWorkers, idleWorkers } = input;
  const rateMin =
    options.secondsToProcessOneJob > 0 ? Math.ceil((options.secondsToProcessOneJob * messagesSentPerMinute) / 60) : 0;
  const min = Math.max(options.minReplicas, rateMin);
  const maxDisruptable = Math.floor(
    (currentWorkers * (options.maxDisruptionPercent ?? WPA_DEFAULT_MAX_DISRUPTION_PERCENT)) / 100,
  );
  const desired = Math.ceil(queueMessages / options.targetMessagesPerWorker);
  if (currentWorkers === 0) return convertWithRules(currentWorkers, desired, min, options.maxReplicas, maxDisruptable);
  if (queueMessages > 0) {
    const tooSmall = Math.abs(desired - currentWorkers) / currentWorkers <= WPA_TOLERANCE;
    return convertWithRules(
      currentWorkers,
      tooSmall ? currentWorkers : desired,
      min,
      options.maxReplicas,
      maxDisruptable,
    );
  }
  if (messagesSentPerMinute > 0 && options.secondsToProcessOneJob > 0)
    return convertWithRules(currentWorkers, min, min, options.maxReplicas, maxDisruptable);
  if (currentWorkers === idleWorkers)
    return convertWithRules(currentWorkers, 0, min, options.maxReplicas, currentWorkers);
  return convertWithRules(currentWorkers, min, min, options.maxReplicas, maxDisruptable);
}

export function wpaPolicy(options: WpaOptions): ScalingPolicy {
  const sent: { atMs: number; total: number }[] = [];
  return {
    name: options.name,
    intervalSeconds: WPA_RESYNC_PERIOD_SECONDS,
    decide(observation: PolicyObservation): PolicyDecision {
      sent.push({ atMs: observation.nowMs, total: observation.arrivedTotal });
      while (sent.length > 1 && (sent[1] as { atMs: number }).atMs <= observation.nowMs - 60_000) sent.shift();
      const oldest = sent[0] as { atMs: number; total: number };
      const minutes = Math.max(1, (observation.nowMs - oldest.atMs) / 1000) / 60;
      const messagesSentPerMinute = (observation.arrivedTotal - oldest.total) / minutes;
      const reading = observation.reading;
      const idle = reading.depth === 0 && (reading.busy ?? 0) === 0;
      const input: WpaInput = {
        queueMessages: reading.depth,
        messagesSentPerMinute,
        currentWorkers: observation.currentReplicas,
        idleWorkers: idle ? observation.currentReplicas : 0,
      };
      return {
        replicas: wpaDesiredWorkers(options, input),
        reason: `wpa: ${reading.depth} messages, ${Math.round(messagesSentPerMinute)} sent/min`,
      };
    },
  };
}
