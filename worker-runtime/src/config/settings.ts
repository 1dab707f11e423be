/** Where one setting comes from: a command-line flag first, then environment variables, then its default. */
export interface SettingSource {
  /** Without dashes, e.g. `concurrency`; undefined for env-only settings (secrets stay out of `ps`). */
  readonly flag: string | undefined;
  /** Tried in order. */
  readonly env: readonly string[];
}

export type Flags = Readonly<Record<string, unknown>>;
export type Env = Readonly<Record<string, string | undefined>>;

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** "--concurrency / WORKERPOOL_CONCURRENCY": how a setting is named in error messages. */
export function describeSource(source: SettingSource): string {
  return [source.flag === undefined ? undefined : `--${source.flag}`, ...source.env].filter(Boolean).join(' / ');
}

export interface RawSetting {
  readonly value: string;
  /** The flag or variable the value came from, for the error message. */
  readonly from: string;
}

export function readSetting(source: SettingSource, flags: Flags, env: Env): RawSetting | undefined {
  if (source.flag !== undefined) {
    const flag = flags[source.flag];
    if (typeof flag === 'string' || typeof flag === 'number') return { value: String(flag), from: `--${source.flag}` };
  }
  for (const name of source.env) {
    const value = env[name];
    if (value !== undefined && value !== '') return { value, from: name };
  }
  return undefined;
}

function fail(raw: RawSetting, expected: string): never {
  throw new ConfigError(`${raw.from}: "${raw.value}" is not ${expected}`);
}

export function parseInteger(raw: RawSetting, min: number, max: number): number {
  const n = Number(raw.value);
  if (!/^-?\d+$/.test(raw.value.trim()) || n < min || n > max) fail(raw, `an integer from ${min} to ${max}`);
  return n;
}

/** Seconds may be fractional (tests use sub-second timeouts); the result is in milliseconds. */
export function parseSecondsAsMs(raw: RawSetting, minSeconds: number, maxSeconds: number): number {
  const n = Number(raw.value);
  if (raw.value.trim() === '' || !Number.isFinite(n) || n < minSeconds || n > maxSeconds)
    fail(raw, `a number of seconds from ${minSeconds} to ${maxSeconds}`);
  return Math.round(n * 1000);
}

export function parseChoice<T extends string>(raw: RawSetting, choices: readonly T[]): T {
  if (!choices.includes(raw.value as T)) fail(raw, `one of ${choices.join(', ')}`);
  return raw.value as T;
}

export function parseRedisUrl(raw: RawSetting): string {
  let url: URL;
  try {
    url = new URL(raw.value);
  } catch {
    throw new ConfigError(`${raw.from}: not a URL (expected redis://[:password@]host:port[/db] or rediss://…)`);
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:')
    throw new ConfigError(`${raw.from}: the scheme must be redis:// or rediss://, got ${url.protocol}//`);
  return raw.value;
}
