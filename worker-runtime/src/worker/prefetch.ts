/**
 * Prefetch: with short jobs, the round trip to Redis between one job and the next is most of the
 * cost. A worker then reserves up to `concurrency` more jobs than it runs, and starts the next one
 * the moment a slot frees, while the ack and the refill travel in the background.
 *
 * With long jobs a prefetched job would sit behind a running one while another pod idles, so prefetch
 * is only on while the average run is short: then a buffered job waits a few milliseconds at most.
 */
export const PREFETCH_MAX_AVERAGE_MS = 20;

/** Weight of the newest observation in the moving average: reacts within a few dozen jobs. */
const SMOOTHING = 0.1;

export class RunTimeAverage {
  private average: number | undefined;

  observe(ms: number): void {
    this.average = this.average === undefined ? ms : this.average + SMOOTHING * (ms - this.average);
  }

  get ms(): number | undefined {
    return this.average;
  }
}

/** How many jobs to hold reserved beyond those running. */
export function prefetchCount(concurrency: number, averageMs: number | undefined): number {
  return averageMs !== undefined && averageMs <= PREFETCH_MAX_AVERAGE_MS ? concurrency : 0;
}
