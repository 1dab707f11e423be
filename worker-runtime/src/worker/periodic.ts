/**
 * Runs `task` every `intervalMs`, never two at once (the next run is scheduled when one ends), so a
 * slow Redis cannot pile up heartbeats. Errors go to `onError`; the schedule goes on.
 */
export class Periodic {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private readonly intervalMs: number;
  private readonly task: () => Promise<void>;
  private readonly onError: (err: unknown) => void;

  constructor(intervalMs: number, task: () => Promise<void>, onError: (err: unknown) => void) {
    this.intervalMs = intervalMs;
    this.task = task;
    this.onError = onError;
  }

  start(firstDelayMs = 0): void {
    this.schedule(firstDelayMs);
  }

  /** Runs the task now (outside the schedule), e.g. to publish a state change at once. */
  async runNow(): Promise<void> {
    await this.running;
    await this.tick();
  }

  /** Stops the schedule and waits for a run in progress. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.tick().finally(() => {
        this.running = undefined;
        this.schedule(this.intervalMs);
      });
    }, delayMs);
    this.timer.unref();
  }

  private async tick(): Promise<void> {
    try {
      await this.task();
    } catch (err) {
      this.onError(err);
    }
  }
}
