import { QUEUE_FORMATS } from '../api/workerpool-schema.ts';

// The flags that name a live queue, shared by `inspect` and `record` so that they read the same.

export const REDIS_URL_OPTION = {
  type: 'string',
  demandOption: true,
  describe: 'Redis URL (redis:// or rediss://). A password written into it is used but never printed.',
} as const;

export const FORMAT_OPTION = {
  choices: QUEUE_FORMATS,
  demandOption: true,
  describe: 'Queue format, as in spec.queue.format',
} as const;

export const KEY_PREFIX_OPTION = {
  type: 'string',
  describe: 'native / bullmq prefix, or the Sidekiq 6 redis-namespace',
} as const;

export const PASSWORD_ENV_OPTION = {
  type: 'string',
  describe: 'Name of an environment variable holding the Redis password',
} as const;

/** The password from the variable --password-env names; `usageError` builds the command's own error. */
export function passwordFromEnv(
  variable: string | undefined,
  usageError: (message: string) => Error,
): string | undefined {
  if (variable === undefined) return undefined;
  const value = process.env[variable];
  if (value === undefined) throw usageError(`--password-env names ${variable}, which is not set`);
  return value;
}
