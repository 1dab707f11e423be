import { expect } from 'vitest';
import type { OperatorMetrics } from '../metrics.ts';

// Evidence that the operator's loops turned. A test that asserts "nothing changed" after a sleep
// passes just as well when the loop has stopped; waiting first for N more polls makes it fail then.

/** Endpoint polls the operator has finished so far (workerpool_signal_polls_total). */
export async function pollsFinished(metrics: OperatorMetrics): Promise<number> {
  return (await metrics.signalPolls.get()).values.reduce((sum, sample) => sum + sample.value, 0);
}

/** Waits until `count` more polls have finished than when it was called, or fails saying so. */
export async function waitForPolls(metrics: OperatorMetrics, count: number, timeoutMs = 30_000): Promise<void> {
  const from = await pollsFinished(metrics);
  await expect
    .poll(() => pollsFinished(metrics), {
      timeout: timeoutMs,
      interval: 50,
      message: `waited ${timeoutMs} ms for ${count} more endpoint polls (from ${from})`,
    })
    .toBeGreaterThanOrEqual(from + count);
}
