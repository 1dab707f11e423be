import { createHmac, randomBytes } from 'node:crypto';
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { RedisEndpointSpec } from '../api/workerpool-schema.ts';
import { SignalReadError } from './read-error.ts';

/** Credentials the controller resolved from the referenced Secrets. Never logged, never returned. */
export interface RedisCredentials {
  readonly username?: string | undefined;
  readonly password?: string | undefined;
}

/** TLS material resolved from Secrets: a PEM CA bundle. */
export interface TlsMaterial {
  readonly ca?: string | undefined;
}

/** Everything needed to reach one Redis endpoint. */
export interface EndpointAccess {
  readonly spec: RedisEndpointSpec;
  readonly credentials?: RedisCredentials | undefined;
  readonly tlsMaterial?: TlsMaterial | undefined;
}

export type SignalClient = Redis | Cluster;

/** Per-command and connect timeouts: short, so that one dead endpoint cannot stall the others. */
export interface ClientTimeouts {
  readonly commandTimeoutMs: number;
  readonly connectTimeoutMs: number;
}

const DEFAULT_REDIS_PORT = 6379;
const MAX_RECONNECT_DELAY_MS = 2000;
const RECONNECT_STEP_MS = 200;
const FINGERPRINT_HEX_CHARS = 16;
/**
 * The key of the fingerprints in endpoint keys: random, new in every process, never written
 * anywhere. Endpoint keys only need to agree within one process (they pool its connections),
 * and an unsalted hash of a password in a log or /healthz can be checked against a guess or a
 * list of leaked passwords, and compared across pools and clusters.
 */
const FINGERPRINT_KEY = randomBytes(32);

interface ParsedUrl {
  host: string;
  port: number;
  db: number;
  tls: boolean;
  credentials: RedisCredentials;
}

function parseRedisUrl(url: string): ParsedUrl {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new SignalReadError('invalid-spec', `redis url is not a URL: ${describeUrl(url)}`);
  }
  if (parsed.protocol !== 'redis:' && parsed.protocol !== 'rediss:') {
    throw new SignalReadError(
      'invalid-spec',
      `redis url must start with redis:// or rediss://, got ${parsed.protocol}//`,
    );
  }
  const dbText = parsed.pathname.replace(/^\//, '');
  const db = dbText === '' ? 0 : Number(dbText);
  if (!Number.isInteger(db) || db < 0)
    throw new SignalReadError('invalid-spec', `redis url names database "${dbText}", not a number`);
  return {
    host: parsed.hostname.replace(/^\[|\]$/g, ''),
    port: parsed.port === '' ? DEFAULT_REDIS_PORT : Number(parsed.port),
    db,
    tls: parsed.protocol === 'rediss:',
    credentials: {
      username: parsed.username === '' ? undefined : decodeURIComponent(parsed.username),
      password: parsed.password === '' ? undefined : decodeURIComponent(parsed.password),
    },
  };
}

/** A URL with any user info removed, safe to print. */
export function describeUrl(url: string): string {
  return url.replace(/^(\w+:\/\/)[^/@]*@/, '$1');
}

/** A short, credential-free name of the endpoint for messages. */
export function describeEndpoint(spec: RedisEndpointSpec): string {
  if (spec.url !== undefined) return describeUrl(spec.url);
  if (spec.sentinel !== undefined)
    return `sentinel ${spec.sentinel.masterName}@${spec.sentinel.endpoints.join(',')}/${spec.sentinel.db ?? 0}`;
  if (spec.cluster !== undefined) return `cluster ${spec.cluster.endpoints.join(',')}`;
  return 'redis endpoint (none of url, sentinel, cluster set)';
}

/** Credentials given explicitly win over ones written into the URL (the CLI accepts the latter). */
export function effectiveCredentials(access: EndpointAccess): RedisCredentials {
  const fromUrl = access.spec.url === undefined ? {} : parseRedisUrl(access.spec.url).credentials;
  return {
    username: access.credentials?.username ?? fromUrl.username,
    password: access.credentials?.password ?? fromUrl.password,
  };
}

function fingerprint(value: string | undefined): string {
  if (value === undefined) return '-';
  return createHmac('sha256', FINGERPRINT_KEY).update(value).digest('hex').slice(0, FINGERPRINT_HEX_CHARS);
}

/**
 * The pooling key of an endpoint: where it is plus who connects and how. Pools with the same key
 * share one connection. The password and CA enter only as an HMAC under this process's own random
 * key, so the key is safe to log: nothing outside the process can test a guess against it.
 */
export function endpointKey(access: EndpointAccess): string {
  const { username, password } = effectiveCredentials(access);
  const tls = access.spec.tls;
  return [
    describeEndpoint(access.spec),
    `user=${username ?? '-'}`,
    `pw=${fingerprint(password)}`,
    `tls=${tls?.enabled === true ? 1 : 0}${tls?.insecureSkipVerify === true ? 'k' : ''}:${tls?.serverName ?? ''}:${fingerprint(access.tlsMaterial?.ca)}`,
  ].join('|');
}

/** The secret values of an endpoint, for redaction. */
export function endpointSecrets(access: EndpointAccess): string[] {
  const { password } = effectiveCredentials(access);
  return password === undefined ? [] : [password];
}

function tlsOptions(access: EndpointAccess, urlTls: boolean): RedisOptions['tls'] {
  const tls = access.spec.tls;
  if (tls?.enabled !== true && !urlTls) return undefined;
  return {
    ...(access.tlsMaterial?.ca === undefined ? {} : { ca: access.tlsMaterial.ca }),
    ...(tls?.serverName === undefined ? {} : { servername: tls.serverName }),
    rejectUnauthorized: tls?.insecureSkipVerify !== true,
  };
}

function hostPort(endpoint: string): { host: string; port: number } {
  const at = endpoint.lastIndexOf(':');
  return { host: endpoint.slice(0, at), port: Number(endpoint.slice(at + 1)) };
}

function commonOptions(access: EndpointAccess, timeouts: ClientTimeouts): RedisOptions {
  const { username, password } = effectiveCredentials(access);
  return {
    username,
    password,
    // RESP2 keeps Lua booleans and nils in the shapes the scripts' headers document.
    protocol: 2,
    lazyConnect: true,
    // Fail at once while disconnected instead of queueing: a poll must answer within its timeout.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: timeouts.commandTimeoutMs,
    connectTimeout: timeouts.connectTimeoutMs,
    retryStrategy: (attempt: number) => Math.min(attempt * RECONNECT_STEP_MS, MAX_RECONNECT_DELAY_MS),
    connectionName: 'workerpool-operator-signals',
  };
}

/** Builds a (not yet connected) ioredis client for the endpoint. */
export function createSignalClient(access: EndpointAccess, timeouts: ClientTimeouts): SignalClient {
  const { spec } = access;
  const common = commonOptions(access, timeouts);
  if (spec.url !== undefined) {
    const url = parseRedisUrl(spec.url);
    const tls = tlsOptions(access, url.tls);
    return new Redis({ ...common, host: url.host, port: url.port, db: url.db, ...(tls === undefined ? {} : { tls }) });
  }
  const tls = tlsOptions(access, false);
  if (spec.sentinel !== undefined) {
    return new Redis({
      ...common,
      sentinels: spec.sentinel.endpoints.map(hostPort),
      name: spec.sentinel.masterName,
      db: spec.sentinel.db ?? 0,
      ...(tls === undefined ? {} : { tls, enableTLSForSentinelMode: true }),
    });
  }
  if (spec.cluster !== undefined) {
    const { lazyConnect, enableOfflineQueue, retryStrategy, ...redisOptions } = common;
    const options: ClusterOptions = {
      lazyConnect,
      enableOfflineQueue,
      // Commands issued in one tick go to each node as one pipeline: a round trip per node.
      enableAutoPipelining: true,
      clusterRetryStrategy: retryStrategy,
      redisOptions: { ...redisOptions, ...(tls === undefined ? {} : { tls }) },
    };
    return new Cluster(spec.cluster.endpoints.map(hostPort), options);
  }
  throw new SignalReadError('invalid-spec', 'queue.redis needs exactly one of url, sentinel or cluster');
}
