import type { SignalEstimate } from './types.ts';

// Human-readable reasons for status.lastScaleReason and Events. They name the signals that
// drove the decision, so that an operator can check them against the queue.

/** One decimal below 10, whole numbers above; no trailing ".0" (5.0000001 reads "5"). */
export function formatNumber(value: number): string {
  return String(Math.abs(value) < 10 ? Number(value.toFixed(1)) : Math.round(value));
}

export function describeSignals(signals: SignalEstimate, targetSeconds: number): string {
  const parts: string[] = [];
  const age = signals.oldestJobAgeSeconds;
  if (age !== undefined)
    parts.push(
      `oldest job ${formatNumber(age)}s ${age > targetSeconds ? '>' : '<='} target ${formatNumber(targetSeconds)}s`,
    );
  parts.push(
    signals.queuePaused
      ? `backlog ${formatNumber(signals.depth)} (queue paused: not sized for)`
      : `backlog ${formatNumber(signals.depth)}`,
  );
  parts.push(`${formatNumber(signals.plannedArrivalRatePerSecond)} jobs/s arriving`);
  parts.push(
    signals.serviceEstimate === 'assumed'
      ? `service time not measured yet, assumed ${formatNumber(signals.serviceTimeSeconds)}s`
      : `${formatNumber(signals.perReplicaJobsPerSecond)} jobs/s per replica (from ${signals.serviceEstimate})`,
  );
  return parts.join(', ');
}

export function describeChange(current: number, desired: number): string {
  return desired === current ? `holding ${current}` : `${current} -> ${desired}`;
}
