// A work queue with client-go's semantics: a key waiting in the queue is stored once however
// often it is added; a key being processed is never handed to a second worker, and if it is
// added meanwhile it is queued again when the first worker calls done(). Failed keys come back
// after a per-key exponential backoff, and a token bucket limits the overall retry rate.
// Keys come in two priorities (as in controller-runtime's priority queue): a key added as `low`
// (a status refresh, a periodic resync) waits behind every normal key (a replica change, a spec
// edit), so that a thousand refreshes never hold a scale-up back for long; a low key added again
// as normal moves ahead. Low keys are not starved either: after LOW_TURN_AFTER normal keys in a
// row handed out while low keys waited, one low key goes. Without that, one namespace that keeps
// scale-ups queued all the time (hundreds of pools on a bursty queue) would stop every other
// namespace's status refreshes and post-outage retries for as long as it kept going.
// Within each priority, namespaces take turns (one key each, round-robin): one operator serves
// many teams, and a team that queues 300 pools at once (a first apply, a mass edit) must not
// delay another team's scale-up by 300 reconciles. A key waits at most one key per other
// namespace that has work of its priority queued. Keys are `namespace/name`.

export interface RateLimiterOptions {
  /** First retry delay of a failing key; doubles on each failure. */
  baseDelayMs: number;
  maxDelayMs: number;
  /** Token bucket shared by all keys: retries per second and burst. */
  perSecond: number;
  burst: number;
}

export const DEFAULT_RATE_LIMITS: RateLimiterOptions = {
  baseDelayMs: 5,
  maxDelayMs: 1000_000,
  perSecond: 10,
  burst: 100,
};

export class RateLimiter {
  readonly #options: RateLimiterOptions;
  readonly #failures = new Map<string, number>();
  readonly #now: () => number;
  #tokens: number;
  #tokensAt: number;

  constructor(options: RateLimiterOptions = DEFAULT_RATE_LIMITS, now: () => number = Date.now) {
    this.#options = options;
    this.#now = now;
    this.#tokens = options.burst;
    this.#tokensAt = now();
  }

  /** Delay before the key's next retry: the larger of its own backoff and the global bucket's wait. */
  when(key: string): number {
    const failures = this.#failures.get(key) ?? 0;
    this.#failures.set(key, failures + 1);
    const own = Math.min(this.#options.baseDelayMs * 2 ** failures, this.#options.maxDelayMs);
    return Math.max(own, this.#takeToken());
  }

  forget(key: string): void {
    this.#failures.delete(key);
  }

  failures(key: string): number {
    return this.#failures.get(key) ?? 0;
  }

  #takeToken(): number {
    const now = this.#now();
    this.#tokens = Math.min(
      this.#options.burst,
      this.#tokens + ((now - this.#tokensAt) / 1000) * this.#options.perSecond,
    );
    this.#tokensAt = now;
    this.#tokens -= 1;
    return this.#tokens >= 0 ? 0 : Math.ceil((-this.#tokens / this.#options.perSecond) * 1000);
  }
}

export type Priority = 'normal' | 'low';

/**
 * Normal keys handed out in a row, while low keys wait, before one low key gets a turn: a
 * scale-up waits at most one refresh per this many reconciles, and refreshes keep a tenth of the
 * workers' throughput however busy the normal line stays.
 */
export const LOW_TURN_AFTER = 10;

/** The namespace of a `namespace/name` key (the whole key if it has no slash). */
const namespaceOf = (key: string): string => {
  const slash = key.indexOf('/');
  return slash < 0 ? key : key.slice(0, slash);
};

/**
 * Keys of one priority, FIFO within a namespace, namespaces served round-robin: the namespace
 * whose turn it is gives one key and goes to the back of the line if it has more.
 */
class NamespaceRoundRobin {
  readonly #byNamespace = new Map<string, string[]>();
  /** Namespaces with keys waiting, in the order of their next turn. */
  readonly #turns: string[] = [];
  #length = 0;

  get length(): number {
    return this.#length;
  }

  push(key: string): void {
    const namespace = namespaceOf(key);
    const keys = this.#byNamespace.get(namespace);
    if (keys) keys.push(key);
    else {
      this.#byNamespace.set(namespace, [key]);
      this.#turns.push(namespace);
    }
    this.#length += 1;
  }

  shift(): string | undefined {
    const namespace = this.#turns.shift();
    if (namespace === undefined) return undefined;
    const keys = this.#byNamespace.get(namespace) ?? [];
    const key = keys.shift();
    if (keys.length > 0) this.#turns.push(namespace);
    else this.#byNamespace.delete(namespace);
    this.#length -= 1;
    return key;
  }

  /** Takes a waiting key out of line (it moves to the other priority). */
  remove(key: string): void {
    const namespace = namespaceOf(key);
    const keys = this.#byNamespace.get(namespace);
    const at = keys?.indexOf(key) ?? -1;
    if (!keys || at < 0) return;
    keys.splice(at, 1);
    this.#length -= 1;
    if (keys.length > 0) return;
    this.#byNamespace.delete(namespace);
    this.#turns.splice(this.#turns.indexOf(namespace), 1);
  }
}

export class WorkQueue {
  readonly #queue = new NamespaceRoundRobin();
  readonly #low = new NamespaceRoundRobin();
  readonly #dirty = new Set<string>();
  /** Dirty keys that only low-priority adds asked for. */
  readonly #dirtyLow = new Set<string>();
  readonly #processing = new Set<string>();
  readonly #delayed = new Map<string, { at: number; timer: NodeJS.Timeout }>();
  readonly #waiters: ((key: string | undefined) => void)[] = [];
  readonly #limiter: RateLimiter;
  /** Normal keys handed out in a row while a low key waited. */
  #normalStreak = 0;
  #shuttingDown = false;

  constructor(limiter: RateLimiter = new RateLimiter()) {
    this.#limiter = limiter;
  }

  get length(): number {
    return this.#queue.length + this.#low.length;
  }

  add(key: string, priority: Priority = 'normal'): void {
    if (this.#shuttingDown) return;
    if (this.#dirty.has(key)) {
      if (priority === 'normal' && this.#dirtyLow.delete(key) && !this.#processing.has(key)) {
        this.#low.remove(key);
        this.#queue.push(key);
      }
      return;
    }
    this.#dirty.add(key);
    if (priority === 'low') this.#dirtyLow.add(key);
    if (this.#processing.has(key)) return;
    const waiter = this.#waiters.shift();
    if (waiter) {
      this.#take(key);
      waiter(key);
    } else {
      (priority === 'low' ? this.#low : this.#queue).push(key);
    }
  }

  #take(key: string): void {
    this.#dirty.delete(key);
    this.#dirtyLow.delete(key);
    this.#processing.add(key);
  }

  /** Adds the key after a delay; an earlier pending delay for the same key wins. */
  addAfter(key: string, delayMs: number): void {
    if (this.#shuttingDown) return;
    if (delayMs <= 0) {
      this.add(key);
      return;
    }
    const at = Date.now() + delayMs;
    const pending = this.#delayed.get(key);
    if (pending && pending.at <= at) return;
    if (pending) clearTimeout(pending.timer);
    const timer = setTimeout(() => {
      this.#delayed.delete(key);
      this.add(key);
    }, delayMs);
    timer.unref();
    this.#delayed.set(key, { at, timer });
  }

  addRateLimited(key: string): void {
    this.addAfter(key, this.#limiter.when(key));
  }

  /**
   * Queues the key at once with its failure history forgotten, dropping a pending backoff: for
   * when whatever made it fail may be over (the API server is back), so that a key that backed
   * off towards maxDelayMs during a long outage is not left waiting out the rest of it.
   */
  retryNow(key: string, priority: Priority = 'normal'): void {
    this.#limiter.forget(key);
    const pending = this.#delayed.get(key);
    if (pending) clearTimeout(pending.timer);
    this.#delayed.delete(key);
    this.add(key, priority);
  }

  /** Clears the key's failure history after a successful reconcile. */
  forget(key: string): void {
    this.#limiter.forget(key);
  }

  retries(key: string): number {
    return this.#limiter.failures(key);
  }

  /** The next key to process, or undefined once the queue shuts down. */
  get(): Promise<string | undefined> {
    const key = this.#next();
    if (key !== undefined) {
      this.#take(key);
      return Promise.resolve(key);
    }
    if (this.#shuttingDown) return Promise.resolve(undefined);
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  #next(): string | undefined {
    if (this.#low.length === 0 || this.#queue.length === 0) {
      this.#normalStreak = 0;
      return this.#queue.shift() ?? this.#low.shift();
    }
    if (this.#normalStreak >= LOW_TURN_AFTER) {
      this.#normalStreak = 0;
      return this.#low.shift();
    }
    this.#normalStreak += 1;
    return this.#queue.shift();
  }

  done(key: string): void {
    this.#processing.delete(key);
    if (this.#dirty.has(key)) {
      const priority = this.#dirtyLow.has(key) ? 'low' : 'normal';
      this.#dirty.delete(key);
      this.#dirtyLow.delete(key);
      this.add(key, priority);
    }
  }

  shutDown(): void {
    this.#shuttingDown = true;
    for (const { timer } of this.#delayed.values()) clearTimeout(timer);
    this.#delayed.clear();
    for (const waiter of this.#waiters.splice(0)) waiter(undefined);
  }
}
