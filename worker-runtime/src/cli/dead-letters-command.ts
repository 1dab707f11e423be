import type { DeadLettersConfig } from '../config/config.ts';
import {
  listDeadLetters,
  purgeDeadLetters,
  replayDeadLetters,
  type DeadLetterSelection,
} from '../dead-letters/dead-letters.ts';
import { queueKeys } from '../protocol/keys.ts';
import { connectRedis } from '../redis/connection.ts';

export type DeadLettersAction =
  | { readonly kind: 'list'; readonly limit: number; readonly offset: number }
  | { readonly kind: 'replay' | 'purge'; readonly selection: DeadLetterSelection };

/** `workerpool-worker dead-letters list|replay|purge`: JSON on stdout, one object per line. */
export async function runDeadLetters(
  config: DeadLettersConfig,
  action: DeadLettersAction,
  write: (line: string) => void,
): Promise<void> {
  // A CLI should fail rather than hang when Redis is away.
  const redis = connectRedis(config.redis.url, {
    maxRetriesPerRequest: 2,
    retryStrategy: () => null,
    ...(config.redis.password === undefined ? {} : { password: config.redis.password }),
  });
  const keys = queueKeys(config.redis.keyPrefix, config.queue);
  try {
    if (action.kind === 'list') {
      for (const dead of await listDeadLetters(redis, keys, action))
        write(JSON.stringify({ ...dead, deadAt: new Date(dead.deadAt).toISOString() }));
    } else if (action.kind === 'replay') {
      write(JSON.stringify({ queue: config.queue, ...(await replayDeadLetters(redis, keys, action.selection)) }));
    } else {
      write(JSON.stringify({ queue: config.queue, purged: await purgeDeadLetters(redis, keys, action.selection) }));
    }
  } finally {
    redis.disconnect();
  }
}
