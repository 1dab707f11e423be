import type { WorkerPool } from '../api/workerpool-schema.ts';
import { Reason } from '../controller/conditions.ts';
import { apiMessage } from '../controller/kube-errors.ts';
import type { Logger } from '../logger.ts';
import { refusedEndpoint, type EndpointPolicy } from '../signals/endpoint-policy.ts';
import type { ReadErrorKind, SignalPoller } from '../signals/index.ts';
import { Backoff } from './backoff.ts';
import { namesSecrets, readPoolCredentials, type ReadSecretValue } from './pool-credentials.ts';
import type { PollScheduler } from './poll-scheduler.ts';

// Which pools the poller reads, and with which credentials. Driven by the informer: a pool seen
// for the first time, or whose spec.queue changed, is registered (its Secrets read, then handed to
// the poller and the scheduler); a deleted pool is dropped. Secrets are read again only after a
// failure — a failed read, or Redis refusing the password — with backoff. Nothing here decides a
// size or writes to the API.

export interface RegistrationProblem {
  reason: typeof Reason.CredentialsUnavailable | typeof Reason.EndpointNotAllowed;
  message: string;
}

export interface Registration {
  /** spec.queue the poller holds a registration for; undefined until one succeeds. */
  readonly registeredQueueKey: string | undefined;
  /** Why the pool's queue cannot be read before any poll (a missing Secret key, a bad URL, a host not allowed). */
  readonly problem: RegistrationProblem | undefined;
}

interface Entry {
  key: string;
  pool: WorkerPool;
  /** spec.queue as last seen; a change means registering again (and reading the Secrets again). */
  queueKey: string;
  registeredQueueKey: string | undefined;
  /** Counts registrations started, so that a slow one cannot overwrite a newer one. */
  attempts: number;
  problem: RegistrationProblem | undefined;
  secretBackoff: Backoff;
  retryTimer: NodeJS.Timeout | undefined;
}

export interface PoolRegistryDeps {
  poller: SignalPoller;
  scheduler: PollScheduler;
  readSecretValue: ReadSecretValue;
  /** The Redis hosts pools may name; undefined allows any. */
  endpointPolicy?: EndpointPolicy | undefined;
  logger: Logger;
  /** A registration finished (well or not): what status shows of the pool's signals may have changed. */
  onRegistrationSettled: (key: string) => void;
  /** First delay before reading a pool's Secrets again after a failure (doubles up to a minute). */
  secretRetryMs?: number | undefined;
}

export class PoolRegistry {
  readonly #deps: PoolRegistryDeps;
  readonly #entries = new Map<string, Entry>();
  #stopped = false;

  constructor(deps: PoolRegistryDeps) {
    this.#deps = deps;
  }

  /** The informer saw the pool (added or changed): keep its spec, register it again if its queue changed. */
  observe(key: string, pool: WorkerPool): void {
    let entry = this.#entries.get(key);
    if (!entry) {
      entry = {
        key,
        pool,
        queueKey: '',
        registeredQueueKey: undefined,
        attempts: 0,
        problem: undefined,
        secretBackoff: new Backoff(this.#deps.secretRetryMs),
        retryTimer: undefined,
      };
      this.#entries.set(key, entry);
    }
    entry.pool = pool;
    const queueKey = JSON.stringify(pool.spec.queue);
    if (queueKey !== entry.queueKey) {
      entry.queueKey = queueKey;
      entry.secretBackoff.reset();
      clearTimeout(entry.retryTimer);
      entry.retryTimer = undefined;
      void this.#register(entry);
    } else if (entry.registeredQueueKey !== undefined) {
      // A new poll interval takes effect at the endpoint's next tick.
      const endpoint = this.#deps.scheduler.endpointOf(key);
      if (endpoint) this.#deps.scheduler.join(key, endpoint, intervalMsOf(pool));
    }
  }

  /** The pool is gone: it is read no more. */
  remove(key: string): void {
    const entry = this.#entries.get(key);
    if (!entry) return;
    this.#entries.delete(key);
    clearTimeout(entry.retryTimer);
    this.#deps.scheduler.leave(key);
    void this.#deps.poller.unregister(key);
  }

  registration(key: string): Registration | undefined {
    return this.#entries.get(key);
  }

  /** A poll succeeded: the next Secret failure starts its backoff afresh. */
  readSucceeded(key: string): void {
    this.#entries.get(key)?.secretBackoff.reset();
  }

  /**
   * A poll failed. When Redis refused the credentials, the password may have been rotated; when
   * a pool that names a CA Secret cannot reach Redis, the CA may have been rotated or fixed (a
   * failed TLS handshake reads as unreachable, like every other connection failure, so that a
   * tenant cannot tell ports apart). Either way the Secrets are read again, with backoff.
   */
  readFailed(key: string, kind: ReadErrorKind): void {
    const entry = this.#entries.get(key);
    if (!entry) return;
    const redis = entry.pool.spec.queue.redis;
    if ((kind === 'auth-failed' && namesSecrets(entry.pool)) || (kind === 'unreachable' && redis.tls?.caSecretRef))
      this.#retrySecrets(entry);
  }

  stop(): void {
    this.#stopped = true;
    for (const entry of this.#entries.values()) clearTimeout(entry.retryTimer);
  }

  async #register(entry: Entry): Promise<void> {
    const attempt = ++entry.attempts;
    const { pool, queueKey, key } = entry;
    let problem: RegistrationProblem | undefined;
    let retry = true;
    let endpoint: string | undefined;
    const notAllowed = refusedEndpoint(this.#deps.endpointPolicy, pool.spec.queue.redis);
    if (notAllowed !== undefined) {
      // Checked before any Secret is read or connection made: only an edit (or the platform) can help.
      problem = { reason: Reason.EndpointNotAllowed, message: notAllowed };
      retry = false;
    } else {
      try {
        const credentials = await readPoolCredentials(pool, this.#deps.readSecretValue);
        if (credentials.ok) {
          try {
            endpoint = this.#deps.poller.register(key, {
              queue: pool.spec.queue,
              credentials: credentials.credentials,
              tlsMaterial: credentials.tls,
            });
          } catch (error) {
            // The spec itself cannot be read (a bad URL): only an edit of it can help.
            problem = unavailable(error instanceof Error ? error.message : String(error));
            retry = false;
          }
        } else {
          problem = unavailable(credentials.problem);
        }
      } catch (error) {
        problem = unavailable(`could not read the Redis credentials: ${apiMessage(error)}`);
      }
    }
    const current = this.#entries.get(key) === entry;
    if (this.#stopped || attempt !== entry.attempts || !current) {
      if (endpoint && !current) void this.#deps.poller.unregister(key);
      return;
    }
    entry.problem = problem;
    if (problem === undefined && endpoint !== undefined) {
      entry.registeredQueueKey = queueKey;
      this.#deps.scheduler.join(key, endpoint, intervalMsOf(entry.pool));
    } else {
      // A registration for an older queue spec must not keep reading the old queue.
      if (entry.registeredQueueKey !== queueKey) {
        entry.registeredQueueKey = undefined;
        this.#deps.scheduler.leave(key);
        void this.#deps.poller.unregister(key);
      }
      this.#deps.logger.warn({ pool: key, problem: problem?.message }, "cannot read this pool's queue");
      if (retry) this.#retrySecrets(entry);
    }
    this.#deps.onRegistrationSettled(key);
  }

  #retrySecrets(entry: Entry): void {
    if (entry.retryTimer || this.#stopped) return;
    entry.retryTimer = setTimeout(() => {
      entry.retryTimer = undefined;
      void this.#register(entry);
    }, entry.secretBackoff.next());
  }
}

const intervalMsOf = (pool: WorkerPool) => pool.spec.scaling.pollIntervalSeconds * 1000;
const unavailable = (message: string): RegistrationProblem => ({ reason: Reason.CredentialsUnavailable, message });
