import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  createSignalClient,
  describeEndpoint,
  endpointKey,
  endpointSecrets,
  type ClientTimeouts,
  type EndpointAccess,
  type SignalClient,
} from './redis-endpoint.ts';

/** One shared connection and what is needed to describe its failures safely. */
export interface EndpointConnection {
  readonly key: string;
  readonly description: string;
  readonly secrets: readonly string[];
  readonly client: SignalClient;
  /** The latest connection-level error (refused, auth), to explain why the client is not ready. */
  lastError: Error | undefined;
  refs: number;
}

/**
 * Connections shared per endpoint (address + credentials identity): acquired when a pool is
 * registered, closed when the last pool using them goes away.
 */
export class ConnectionPool {
  readonly #connections = new Map<string, EndpointConnection>();
  readonly #timeouts: ClientTimeouts;

  constructor(timeouts: ClientTimeouts) {
    this.#timeouts = timeouts;
  }

  acquire(access: EndpointAccess): EndpointConnection {
    const key = endpointKey(access);
    const existing = this.#connections.get(key);
    if (existing) {
      existing.refs += 1;
      return existing;
    }
    const client = createSignalClient(access, this.#timeouts);
    const connection: EndpointConnection = {
      key,
      description: describeEndpoint(access.spec),
      secrets: endpointSecrets(access),
      client,
      lastError: undefined,
      refs: 1,
    };
    // Without a listener an 'error' event would crash the process; the poller reports it instead.
    client.on('error', (err: Error) => {
      connection.lastError = err;
    });
    client.on('ready', () => {
      connection.lastError = undefined;
    });
    this.#connections.set(key, connection);
    return connection;
  }

  get(key: string): EndpointConnection | undefined {
    return this.#connections.get(key);
  }

  /** Drops one reference; the connection closes when no pool uses it any more. */
  async release(key: string): Promise<void> {
    const connection = this.#connections.get(key);
    if (!connection) return;
    connection.refs -= 1;
    if (connection.refs > 0) return;
    this.#connections.delete(key);
    await closeClient(connection.client);
  }

  async closeAll(): Promise<void> {
    const all = [...this.#connections.values()];
    this.#connections.clear();
    await Promise.all(all.map((c) => closeClient(c.client)));
  }
}

async function closeClient(client: SignalClient): Promise<void> {
  try {
    if (client.status === 'ready') await client.quit();
    else client.disconnect();
  } catch {
    client.disconnect();
  }
}

/**
 * Waits until the client can take commands, for at most `timeoutMs`. Connecting is lazy, so the
 * first poll starts it; a refused or rejected connection fails with the client's own error.
 */
export async function ensureReady(connection: EndpointConnection, timeoutMs: number): Promise<void> {
  const { client } = connection;
  if (client.status === 'ready') return;
  if (client.status === 'wait' || client.status === 'end') {
    client.connect().catch((err: unknown) => {
      if (err instanceof Error) connection.lastError = err;
    });
  }
  const abort = new AbortController();
  try {
    await Promise.race([
      once(client, 'ready', { signal: abort.signal }),
      sleep(timeoutMs, undefined, { signal: abort.signal }).then(() => {
        throw connection.lastError ?? new Error(`not connected after ${timeoutMs} ms (timed out)`);
      }),
    ]);
  } finally {
    abort.abort();
  }
}
