// Job handlers for the worker that the monitoring test's Prometheus scrapes: one job kind that
// succeeds after a moment (so workers are seen busy), one that can never succeed (a dead letter).
import { setTimeout as sleep } from 'node:timers/promises';
import { UnrecoverableError } from '@workerpool/worker-runtime';

export async function send(): Promise<void> {
  await sleep(200);
}

export function poison(): Promise<void> {
  return Promise.reject(new UnrecoverableError('this job can never succeed'));
}
