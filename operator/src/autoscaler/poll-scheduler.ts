import type { LoopWatchdog } from '../loop-watchdog.ts';

// When each Redis endpoint is polled: one timer per endpoint, at the shortest poll interval of
// the pools it serves. The scheduler knows which pools use which endpoint, so that a tick costs
// what its own pools cost, whatever the number of other endpoints. It knows nothing of readings:
// each tick hands the endpoint to `poll`.

/** A poll loop that has not finished a poll this long after it was due is stuck. */
const POLL_STUCK_SLACK_MS = 30_000;

export interface PollSchedulerDeps {
  /** Reads every pool of the endpoint once; the next tick waits for it to settle. */
  poll: (endpoint: string) => Promise<void>;
  onPollFailed: (endpoint: string, error: unknown) => void;
  watchdog?: LoopWatchdog | undefined;
}

interface Member {
  endpoint: string;
  intervalMs: number;
}

export class PollScheduler {
  readonly #deps: PollSchedulerDeps;
  readonly #members = new Map<string, Member>();
  /** Pool keys by endpoint, and each pool's interval through #members. */
  readonly #byEndpoint = new Map<string, Set<string>>();
  readonly #timers = new Map<string, NodeJS.Timeout>();
  /** Endpoints whose poll is under way: its end schedules the next one, so no second chain starts. */
  readonly #polling = new Set<string>();
  #stopped = false;

  constructor(deps: PollSchedulerDeps) {
    this.#deps = deps;
  }

  /** The pool is read through `endpoint` every `intervalMs` from now on (replacing any earlier membership). */
  join(key: string, endpoint: string, intervalMs: number): void {
    const previous = this.#members.get(key);
    this.#members.set(key, { endpoint, intervalMs });
    if (previous && previous.endpoint !== endpoint) this.#leaveEndpoint(key, previous.endpoint);
    let keys = this.#byEndpoint.get(endpoint);
    if (!keys) this.#byEndpoint.set(endpoint, (keys = new Set()));
    keys.add(key);
    this.#start(endpoint);
  }

  /** The pool is no longer read; an endpoint left without pools stops its timer. */
  leave(key: string): void {
    const member = this.#members.get(key);
    if (!member) return;
    this.#members.delete(key);
    this.#leaveEndpoint(key, member.endpoint);
  }

  endpointOf(key: string): string | undefined {
    return this.#members.get(key)?.endpoint;
  }

  stop(): void {
    this.#stopped = true;
    for (const [endpoint, timer] of this.#timers) {
      clearTimeout(timer);
      this.#deps.watchdog?.remove(pollLoop(endpoint));
    }
    this.#timers.clear();
  }

  #leaveEndpoint(key: string, endpoint: string): void {
    const keys = this.#byEndpoint.get(endpoint);
    keys?.delete(key);
    if (keys?.size !== 0) return;
    this.#byEndpoint.delete(endpoint);
    clearTimeout(this.#timers.get(endpoint));
    this.#timers.delete(endpoint);
    this.#deps.watchdog?.remove(pollLoop(endpoint));
  }

  #intervalOf(endpoint: string): number | undefined {
    const keys = this.#byEndpoint.get(endpoint);
    if (!keys || keys.size === 0) return undefined;
    let shortest = Infinity;
    for (const key of keys) shortest = Math.min(shortest, this.#members.get(key)?.intervalMs ?? Infinity);
    return shortest;
  }

  /** A new endpoint is polled at once; one that already ticks keeps its rhythm. */
  #start(endpoint: string): void {
    if (this.#stopped || this.#timers.has(endpoint) || this.#polling.has(endpoint)) return;
    this.#deps.watchdog?.expect(pollLoop(endpoint), POLL_STUCK_SLACK_MS);
    this.#timers.set(
      endpoint,
      setTimeout(() => this.#tick(endpoint), 0),
    );
  }

  /**
   * Polls at a fixed rate: the next poll is due an interval after this one started, not after it
   * ended, or every poll would come late by its own duration. Timers run on the real clock.
   */
  #tick(endpoint: string): void {
    const loop = pollLoop(endpoint);
    const startedAt = performance.now();
    this.#timers.delete(endpoint);
    this.#polling.add(endpoint);
    this.#deps
      .poll(endpoint)
      .catch((error: unknown) => this.#deps.onPollFailed(endpoint, error))
      .finally(() => {
        this.#polling.delete(endpoint);
        this.#deps.watchdog?.done(loop);
        const interval = this.#intervalOf(endpoint);
        if (this.#stopped || interval === undefined) {
          this.#deps.watchdog?.remove(loop);
          return;
        }
        this.#deps.watchdog?.expect(loop, interval + POLL_STUCK_SLACK_MS);
        this.#timers.set(
          endpoint,
          setTimeout(() => this.#tick(endpoint), Math.max(0, startedAt + interval - performance.now())),
        );
      });
  }
}

const pollLoop = (endpoint: string) => `poll ${endpoint}`;
