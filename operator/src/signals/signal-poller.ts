import type { QueueSpec } from '../api/workerpool-schema.ts';
import { ConnectionPool, ensureReady, type EndpointConnection } from './connection-pool.ts';
import type { QueueFormatReader } from './queue-reader.ts';
import type { QueueReading } from './queue-reading.ts';
import { commandKey, redisCommand, type CommandResult, type ReadCommand } from './read-command.ts';
import { SignalReadError, toSignalReadError } from './read-error.ts';
import { readerFor } from './reader-registry.ts';
import type { RedisCredentials, TlsMaterial } from './redis-endpoint.ts';
import { timeReplyToMs } from './reply.ts';
import { runCommands, type RoundTripCounter } from './run-commands.ts';
import type { PoolReadResult } from './stale-reading.ts';

/** A pool as the controller registers it: its queue spec and the secrets it resolved for it. */
export interface PoolRegistration {
  readonly queue: QueueSpec;
  /** Values of usernameSecretRef / passwordSecretRef, read by the controller. */
  readonly credentials?: RedisCredentials | undefined;
  /** PEM of tls.caSecretRef, read by the controller. */
  readonly tlsMaterial?: TlsMaterial | undefined;
}

export interface SignalPollerOptions {
  /** Per-command timeout; a slow endpoint fails its own pools only. Default 2 s. */
  readonly commandTimeoutMs?: number;
  /** Longest wait for a connection on a poll. Default 2 s. */
  readonly connectTimeoutMs?: number;
}

interface RegisteredPool {
  readonly id: string;
  readonly registration: PoolRegistration;
  readonly reader: QueueFormatReader;
  readonly plan: readonly ReadCommand[];
  readonly endpoint: string;
  /** What a reader that remembers kept after the last successful read; reset by a new registration. */
  memory?: unknown;
  /** The last plan made from `memory`: kept while the memory stays the same object. */
  planned?: PoolPoll;
}

/** One poll of a pool: its commands (its fixed plan, or one from its reader's memory) and that memory. */
interface PoolPoll {
  readonly plan: readonly ReadCommand[];
  readonly memory: unknown;
}

function pollOf(pool: RegisteredPool): PoolPoll {
  if (pool.reader.remember === undefined) return { plan: pool.plan, memory: undefined };
  if (pool.planned === undefined || pool.planned.memory !== pool.memory)
    pool.planned = { plan: pool.reader.plan(pool.registration.queue, pool.memory), memory: pool.memory };
  return pool.planned;
}

const DEFAULT_COMMAND_TIMEOUT_MS = 2000;
const DEFAULT_CONNECT_TIMEOUT_MS = 2000;
const POLL_DEADLINE_MARGIN_MS = 500;
const TIME = redisCommand('TIME', []);

async function withDeadline<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`poll timed out after ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([work, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Reads the queue signals of many pools. Pools that share a Redis endpoint (address and
 * credentials) share one connection and are read together: one pipeline, one round trip per
 * endpoint per poll. A failed read yields a typed error and the last good reading, never zeros.
 */
export class SignalPoller {
  readonly #pools = new Map<string, RegisteredPool>();
  readonly #lastGood = new Map<string, QueueReading>();
  readonly #connections: ConnectionPool;
  readonly #connectTimeoutMs: number;
  readonly #pollDeadlineMs: number;
  readonly #counter: RoundTripCounter = { roundTrips: 0, commands: 0 };
  /** Quiet requests are counted apart: a poll stays one round trip. */
  readonly #quietCounter: RoundTripCounter = { roundTrips: 0, commands: 0 };
  readonly #closing: Promise<void>[] = [];

  constructor(options: SignalPollerOptions = {}) {
    const commandTimeoutMs = options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
    this.#connectTimeoutMs = options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    // Per-command timeouts should fire first; this bounds a pipeline that never settles at all.
    this.#pollDeadlineMs = commandTimeoutMs + POLL_DEADLINE_MARGIN_MS;
    this.#connections = new ConnectionPool({ commandTimeoutMs, connectTimeoutMs: this.#connectTimeoutMs });
  }

  /**
   * Adds a pool, or replaces its registration (spec or credentials changed). Throws a
   * SignalReadError of kind `invalid-spec` when the queue settings cannot be read at all.
   * Returns the endpoint key the pool is polled under (credential-free, safe to log).
   */
  register(id: string, registration: PoolRegistration): string {
    const reader = readerFor(registration.queue.format);
    const plan = reader.plan(registration.queue);
    const connection = this.#connections.acquire({
      spec: registration.queue.redis,
      credentials: registration.credentials,
      tlsMaterial: registration.tlsMaterial,
    });
    const previous = this.#pools.get(id);
    this.#pools.set(id, { id, registration, reader, plan, endpoint: connection.key });
    if (previous) {
      this.#releaseLater(previous.endpoint);
      if (previous.registration.queue.format !== registration.queue.format) this.#lastGood.delete(id);
    }
    return connection.key;
  }

  /** Removes a pool; its connection closes when no other pool uses it. */
  async unregister(id: string): Promise<void> {
    const pool = this.#pools.get(id);
    if (!pool) return;
    this.#pools.delete(id);
    this.#lastGood.delete(id);
    await this.#connections.release(pool.endpoint);
  }

  /** Endpoint keys in use (credential-free). */
  endpoints(): string[] {
    return [...new Set([...this.#pools.values()].map((p) => p.endpoint))];
  }

  /** The last successful reading of a pool, if any. */
  lastGood(id: string): QueueReading | undefined {
    return this.#lastGood.get(id);
  }

  /** Pipelines sent since the poller was made (a NOSCRIPT reload counts as one more). */
  get roundTrips(): number {
    return this.#counter.roundTrips;
  }

  /** Commands sent since the poller was made (an EVALSHA counts once). */
  get commandsSent(): number {
    return this.#counter.commands;
  }

  /** Reads every registered pool: the endpoints concurrently, each in one round trip. */
  async readAll(): Promise<Map<string, PoolReadResult>> {
    const perEndpoint = await Promise.all(this.endpoints().map((e) => this.pollEndpoint(e)));
    return new Map(perEndpoint.flatMap((m) => [...m]));
  }

  /** Reads the pools of one endpoint in one round trip. */
  async pollEndpoint(endpoint: string): Promise<Map<string, PoolReadResult>> {
    const pools = [...this.#pools.values()].filter((p) => p.endpoint === endpoint);
    const connection = this.#connections.get(endpoint);
    if (!connection || pools.length === 0) return new Map();
    const polls = pools.map(pollOf);
    const commands: ReadCommand[] = [TIME, ...polls.flatMap((p) => p.plan)];
    let results: CommandResult[];
    try {
      await ensureReady(connection, this.#connectTimeoutMs);
      results = await withDeadline(runCommands(connection.client, commands, this.#counter), this.#pollDeadlineMs);
    } catch (err) {
      const error = toSignalReadError(err, { endpoint: connection.description }, connection.secrets);
      return new Map(pools.map((p) => [p.id, this.#failed(p, error)]));
    }
    return this.#decodeAll(connection, pools, polls, results);
  }

  #decodeAll(
    connection: EndpointConnection,
    pools: readonly RegisteredPool[],
    polls: readonly PoolPoll[],
    results: readonly CommandResult[],
  ): Map<string, PoolReadResult> {
    const out = new Map<string, PoolReadResult>();
    const [time] = results;
    if (!time?.ok) {
      const error = toSignalReadError(
        time?.error ?? new Error('no reply to TIME'),
        { endpoint: connection.description },
        connection.secrets,
      );
      for (const p of pools) out.set(p.id, this.#failed(p, error));
      return out;
    }
    const context = { nowMs: timeReplyToMs(time.value) };
    let offset = 1;
    pools.forEach((pool, i) => {
      const poll = polls[i] ?? { plan: [], memory: undefined };
      const own = results.slice(offset, offset + poll.plan.length);
      offset += poll.plan.length;
      out.set(pool.id, this.#decodeOne(connection, pool, poll, own, context.nowMs));
    });
    return out;
  }

  #decodeOne(
    connection: EndpointConnection,
    pool: RegisteredPool,
    { plan, memory }: PoolPoll,
    results: readonly CommandResult[],
    nowMs: number,
  ): PoolReadResult {
    const failed = results.findIndex((r) => !r.ok);
    const first = results[failed];
    if (first !== undefined && !first.ok) {
      const command = plan[failed];
      const key = command === undefined ? undefined : commandKey(command);
      return this.#failed(
        pool,
        toSignalReadError(first.error, { endpoint: connection.description, key }, connection.secrets),
      );
    }
    try {
      const replies = results.map((r) => (r.ok ? r.value : undefined));
      const context = { nowMs, memory };
      const reading = pool.reader.decode(pool.registration.queue, replies, context);
      // A pool unregistered or re-registered while this poll was in flight keeps nothing from it.
      if (this.#pools.get(pool.id) === pool) {
        this.#lastGood.set(pool.id, reading);
        // Two polls in flight at once planned from the same memory: the first to finish moves it on.
        if (pool.reader.remember !== undefined && pool.memory === memory)
          pool.memory = pool.reader.remember(pool.registration.queue, replies, context);
      }
      return { ok: true, reading };
    } catch (err) {
      // Not its message: an error thrown while decoding may quote the reply, which is queue data.
      const error =
        err instanceof SignalReadError
          ? err
          : new SignalReadError(
              'redis-error',
              `the reply could not be decoded (${err instanceof Error ? err.name : 'error'})`,
            );
      return this.#failed(pool, toSignalReadError(error, { endpoint: connection.description }, connection.secrets));
    }
  }

  /**
   * Sends a pool's quiet requests (quiet-request.ts) on the pool's own connection: the only writes
   * the operator makes to a tenant's Redis. Throws when the endpoint or any command fails.
   */
  async sendQuiet(id: string, commands: readonly ReadCommand[]): Promise<void> {
    const pool = this.#pools.get(id);
    const connection = pool && this.#connections.get(pool.endpoint);
    if (!connection) throw new Error(`pool ${id} is not registered`);
    await ensureReady(connection, this.#connectTimeoutMs);
    const results = await withDeadline(
      runCommands(connection.client, commands, this.#quietCounter),
      this.#pollDeadlineMs,
    );
    const failed = results.find((r) => !r.ok);
    if (failed && !failed.ok)
      throw toSignalReadError(failed.error, { endpoint: connection.description }, connection.secrets);
  }

  #failed(pool: RegisteredPool, error: SignalReadError): PoolReadResult {
    return { ok: false, error, lastGood: this.#lastGood.get(pool.id) };
  }

  #releaseLater(endpoint: string): void {
    this.#closing.push(this.#connections.release(endpoint));
  }

  /** Closes every connection. */
  async close(): Promise<void> {
    this.#pools.clear();
    await Promise.all(this.#closing);
    await this.#connections.closeAll();
  }
}
