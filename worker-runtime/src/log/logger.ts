import { pino, type Logger } from 'pino';
import type { LogLevel } from '../config/config.ts';

/**
 * JSON logs on stdout. Anything shaped like a secret is censored even if a caller slips it into a
 * log object; Redis URLs are redacted where they are logged (redactUrl).
 */
export function createLogger(level: LogLevel, base: Record<string, unknown> = {}): Logger {
  return pino({
    level,
    base: { pid: process.pid, ...base },
    redact: { paths: ['password', '*.password', 'redis.password', 'auth', '*.auth'], censor: '***' },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}
