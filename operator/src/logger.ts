import { pino, type Logger } from 'pino';
import type { LogLevel } from './config.ts';

export type { Logger };

// Fields that could carry a credential are censored by pino itself, wherever they appear, so a
// careless log call cannot leak a Redis password.
const REDACTED_PATHS = [
  'password',
  '*.password',
  'redis.password',
  'credentials',
  '*.credentials',
  'token',
  '*.token',
  'authorization',
  '*.authorization',
];

/** Structured JSON logs on stdout, one object per line. */
export function createLogger(level: LogLevel, destination?: NodeJS.WritableStream): Logger {
  const options = {
    level,
    base: { component: 'workerpool-operator' },
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
  };
  return destination ? pino(options, destination) : pino(options);
}
