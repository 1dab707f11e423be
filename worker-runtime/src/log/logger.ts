import { pino, type Logger } from 'pino';
import type { LogLevel } from '../config/config.ts';

/**
 * ioredis errors carry the failed command, and a failed HELLO's arguments are `AUTH <user> <password>`:
 * the command and the chain of previous errors are dropped before an error reaches a log line.
 */
export function serializeError(err: unknown): Record<string, unknown> {
  const serialized = pino.stdSerializers.err(err as Error) as unknown as Record<string, unknown>;
  const { command: _command, previousErrors: _previous, ...safe } = serialized;
  return safe;
}

/**
 * JSON logs on stdout. Anything shaped like a secret is censored even if a caller slips it into a
 * log object; Redis URLs are redacted where they are logged (redactUrl).
 */
export function createLogger(level: LogLevel, base: Record<string, unknown> = {}): Logger {
  return pino({
    level,
    base: { pid: process.pid, ...base },
    serializers: { err: serializeError },
    redact: { paths: ['password', '*.password', 'auth', '*.auth'], censor: '***' },
    timestamp: pino.stdTimeFunctions.isoTime,
  });
}
