import { hostname } from 'node:os';
import { DEFAULT_KEY_PREFIX, validateQueueName } from '../protocol/keys.ts';
import { WORKER_DEFAULTS } from '../worker/worker-options.ts';
import { EVICTION_POLICY_CHECKS, type EvictionPolicyCheck } from '../redis/eviction-policy.ts';
import { MAX_CONCURRENCY, MAX_DRAIN_TIMEOUT_SECONDS } from './limits.ts';
import {
  ConfigError,
  describeSource,
  parseChoice,
  parseInteger,
  parseRedisUrl,
  parseSecondsAsMs,
  readSetting,
  type Env,
  type Flags,
  type SettingSource,
} from './settings.ts';

/** Every setting of the worker process, with its flag and environment variables (README.md lists them). */
export const SETTINGS = {
  redisUrl: { flag: 'redis-url', env: ['REDIS_URL'] },
  redisPassword: { flag: undefined, env: ['REDIS_PASSWORD'] },
  queues: { flag: 'queues', env: ['WORKERPOOL_QUEUES', 'WORKERPOOL_QUEUE'] },
  queue: { flag: 'queue', env: ['WORKERPOOL_QUEUE', 'WORKERPOOL_QUEUES'] },
  handlers: { flag: 'handlers', env: ['WORKERPOOL_HANDLERS'] },
  concurrency: { flag: 'concurrency', env: ['WORKERPOOL_CONCURRENCY'] },
  keyPrefix: { flag: 'key-prefix', env: ['WORKERPOOL_KEY_PREFIX'] },
  drainTimeout: { flag: 'drain-timeout-seconds', env: ['WORKERPOOL_DRAIN_TIMEOUT_SECONDS'] },
  visibilityTimeout: { flag: 'visibility-timeout-seconds', env: ['WORKERPOOL_VISIBILITY_TIMEOUT_SECONDS'] },
  heartbeatInterval: { flag: 'heartbeat-interval-seconds', env: ['WORKERPOOL_HEARTBEAT_INTERVAL_SECONDS'] },
  maxStalls: { flag: 'max-stalls', env: ['WORKERPOOL_MAX_STALLS'] },
  deadLetterMaxAge: { flag: 'dead-letter-max-age-seconds', env: ['WORKERPOOL_DEAD_LETTER_MAX_AGE_SECONDS'] },
  deadLetterMaxCount: { flag: 'dead-letter-max-count', env: ['WORKERPOOL_DEAD_LETTER_MAX_COUNT'] },
  evictionPolicyCheck: { flag: 'eviction-policy-check', env: ['WORKERPOOL_EVICTION_POLICY_CHECK'] },
  podName: { flag: 'pod-name', env: ['WORKERPOOL_POD_NAME', 'HOSTNAME'] },
  metricsPort: { flag: 'metrics-port', env: ['WORKERPOOL_METRICS_PORT'] },
  metricsHost: { flag: 'metrics-host', env: ['WORKERPOOL_METRICS_HOST'] },
  logLevel: { flag: 'log-level', env: ['WORKERPOOL_LOG_LEVEL'] },
} as const satisfies Record<string, SettingSource>;

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export const CONFIG_DEFAULTS = {
  redisUrl: 'redis://127.0.0.1:6379',
  metricsPort: 9464,
  metricsHost: '0.0.0.0',
  logLevel: 'info',
} as const;

export interface RedisConfig {
  readonly url: string;
  /** From REDIS_PASSWORD (a Secret), overriding a password in the URL. */
  readonly password: string | undefined;
  readonly keyPrefix: string;
}

export interface RunConfig {
  readonly redis: RedisConfig;
  readonly queues: readonly string[];
  readonly handlersPath: string;
  readonly concurrency: number;
  readonly drainTimeoutMs: number;
  readonly visibilityTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  readonly maxStalls: number;
  readonly deadLetterMaxAgeMs: number;
  readonly deadLetterMaxCount: number;
  readonly evictionPolicyCheck: EvictionPolicyCheck;
  readonly podName: string;
  /** 0 picks a free port (tests running several workers on one machine). */
  readonly metricsPort: number;
  readonly metricsHost: string;
  readonly logLevel: LogLevel;
}

export interface DeadLettersConfig {
  readonly redis: RedisConfig;
  readonly queue: string;
  readonly logLevel: LogLevel;
}

function required(source: SettingSource, flags: Flags, env: Env, what: string) {
  const raw = readSetting(source, flags, env);
  if (!raw) throw new ConfigError(`${describeSource(source)} is required: ${what}`);
  return raw;
}

function optional<T>(
  source: SettingSource,
  flags: Flags,
  env: Env,
  fallback: T,
  parse: (raw: NonNullable<ReturnType<typeof readSetting>>) => T,
): T {
  const raw = readSetting(source, flags, env);
  return raw ? parse(raw) : fallback;
}

function parseQueueList(source: SettingSource, flags: Flags, env: Env): string[] {
  const raw = required(source, flags, env, 'the queue names to work on, comma-separated');
  const queues = raw.value
    .split(',')
    .map((q) => q.trim())
    .filter((q) => q.length > 0);
  if (queues.length === 0) throw new ConfigError(`${raw.from}: no queue name in "${raw.value}"`);
  for (const q of queues) {
    try {
      validateQueueName(q);
    } catch (err) {
      throw new ConfigError(`${raw.from}: ${(err as Error).message}`);
    }
  }
  if (new Set(queues).size !== queues.length)
    throw new ConfigError(`${raw.from}: a queue is listed twice in "${raw.value}"`);
  return queues;
}

function parseRedisConfig(flags: Flags, env: Env): RedisConfig {
  return {
    url: optional(SETTINGS.redisUrl, flags, env, CONFIG_DEFAULTS.redisUrl, parseRedisUrl),
    password: readSetting(SETTINGS.redisPassword, flags, env)?.value,
    keyPrefix: optional(SETTINGS.keyPrefix, flags, env, DEFAULT_KEY_PREFIX, (raw) => raw.value),
  };
}

const logLevel = (flags: Flags, env: Env): LogLevel =>
  optional(SETTINGS.logLevel, flags, env, CONFIG_DEFAULTS.logLevel, (raw) => parseChoice(raw, LOG_LEVELS));

/** Parses `workerpool-worker run` settings once, failing fast with the flag or variable that is wrong. */
export function parseRunConfig(flags: Flags, env: Env): RunConfig {
  const seconds = (source: SettingSource, fallbackMs: number, min: number, max: number) =>
    optional(source, flags, env, fallbackMs, (raw) => parseSecondsAsMs(raw, min, max));
  const config: RunConfig = {
    redis: parseRedisConfig(flags, env),
    queues: parseQueueList(SETTINGS.queues, flags, env),
    handlersPath: required(SETTINGS.handlers, flags, env, 'the module exporting the job handlers').value,
    concurrency: optional(SETTINGS.concurrency, flags, env, WORKER_DEFAULTS.concurrency, (raw) =>
      parseInteger(raw, 1, MAX_CONCURRENCY),
    ),
    drainTimeoutMs: seconds(SETTINGS.drainTimeout, WORKER_DEFAULTS.drainTimeoutMs, 0, MAX_DRAIN_TIMEOUT_SECONDS),
    visibilityTimeoutMs: seconds(SETTINGS.visibilityTimeout, WORKER_DEFAULTS.visibilityTimeoutMs, 0.1, 86_400),
    heartbeatIntervalMs: seconds(SETTINGS.heartbeatInterval, WORKER_DEFAULTS.heartbeatIntervalMs, 0.05, 3_600),
    maxStalls: optional(SETTINGS.maxStalls, flags, env, WORKER_DEFAULTS.maxStalls, (raw) =>
      parseInteger(raw, 0, 1_000),
    ),
    deadLetterMaxAgeMs: seconds(SETTINGS.deadLetterMaxAge, WORKER_DEFAULTS.deadLetterMaxAgeMs, 1, 10 * 365 * 86_400),
    deadLetterMaxCount: optional(SETTINGS.deadLetterMaxCount, flags, env, WORKER_DEFAULTS.deadLetterMaxCount, (raw) =>
      parseInteger(raw, 0, 10_000_000),
    ),
    evictionPolicyCheck: optional(
      SETTINGS.evictionPolicyCheck,
      flags,
      env,
      WORKER_DEFAULTS.evictionPolicyCheck,
      (raw) => parseChoice(raw, EVICTION_POLICY_CHECKS),
    ),
    podName: optional(SETTINGS.podName, flags, env, hostname(), (raw) => raw.value),
    metricsPort: optional(SETTINGS.metricsPort, flags, env, CONFIG_DEFAULTS.metricsPort, (raw) =>
      parseInteger(raw, 0, 65_535),
    ),
    metricsHost: optional(SETTINGS.metricsHost, flags, env, CONFIG_DEFAULTS.metricsHost, (raw) => raw.value),
    logLevel: logLevel(flags, env),
  };
  if (config.heartbeatIntervalMs >= config.visibilityTimeoutMs) {
    throw new ConfigError(
      `${describeSource(SETTINGS.heartbeatInterval)} (${config.heartbeatIntervalMs / 1000}) must be below ${describeSource(SETTINGS.visibilityTimeout)} (${config.visibilityTimeoutMs / 1000}), or running jobs would be reclaimed`,
    );
  }
  return config;
}

/** Parses `workerpool-worker dead-letters …` settings. */
export function parseDeadLettersConfig(flags: Flags, env: Env): DeadLettersConfig {
  const raw = required(SETTINGS.queue, flags, env, 'the queue whose dead letters to work on');
  try {
    validateQueueName(raw.value);
  } catch (err) {
    throw new ConfigError(`${raw.from}: ${(err as Error).message}`);
  }
  return { redis: parseRedisConfig(flags, env), queue: raw.value, logLevel: logLevel(flags, env) };
}
