import { JobTimeoutError } from './errors.ts';
import type { Job, JobHandler } from './job.ts';

/**
 * Runs a handler, failing the run after `timeoutMs` (0: never). JavaScript cannot stop a running
 * function, so on timeout the job's AbortSignal fires and the handler is expected to give up;
 * its late result is ignored.
 */
export async function runHandler(
  handler: JobHandler,
  job: Job,
  controller: AbortController,
  timeoutMs: number,
): Promise<void> {
  if (timeoutMs <= 0) {
    await handler(job);
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const err = new JobTimeoutError(timeoutMs);
      controller.abort(err);
      reject(err);
    }, timeoutMs);
  });
  const run = Promise.resolve().then(() => handler(job));
  run.catch(() => undefined); // a late rejection after a timeout is not an unhandled one
  try {
    await Promise.race([run, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
