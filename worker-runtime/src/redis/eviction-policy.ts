import type { Redis } from 'ioredis';

/**
 * What a worker does at start when Redis may evict the queue's keys: under an `allkeys-*` policy a
 * full Redis deletes whole keys — the wait list, the records of every job — and the jobs are gone
 * without a trace. `noeviction` is safe, and so are the `volatile-*` policies (the default of
 * ElastiCache and Memorystore): they evict only keys with a TTL, and the runtime sets none, so
 * for its keys a full Redis refuses writes as noeviction does. `refuse` (the default) stops the
 * worker; `warn` logs and runs.
 */
export const EVICTION_POLICY_CHECKS = ['refuse', 'warn'] as const;
export type EvictionPolicyCheck = (typeof EVICTION_POLICY_CHECKS)[number];

const SAFE_POLICY = 'noeviction';
/** The runtime's keys never carry a TTL, and volatile-* evicts only keys that do. */
const isSafePolicy = (policy: string | undefined) => policy === SAFE_POLICY || policy?.startsWith('volatile-') === true;

export class EvictionPolicyError extends Error {
  override readonly name = 'EvictionPolicyError';
}

/**
 * The server's eviction policy, from `INFO memory` (managed Redis services often disable CONFIG).
 * Undefined when the server does not say.
 */
export async function readEvictionPolicy(redis: Redis): Promise<string | undefined> {
  const info = await redis.info('memory');
  return /^maxmemory_policy:(\S+)/m.exec(info)?.[1];
}

/**
 * Checks the policy; throws EvictionPolicyError under `refuse`, or returns the warning to log under
 * `warn` (undefined when the policy is safe).
 */
export async function checkEvictionPolicy(redis: Redis, check: EvictionPolicyCheck): Promise<string | undefined> {
  const policy = await readEvictionPolicy(redis);
  if (isSafePolicy(policy)) return undefined;
  const problem =
    `Redis maxmemory-policy is ${policy ?? 'not reported'}, not ${SAFE_POLICY}: when memory runs out, Redis ` +
    'deletes whole keys, and the queue loses jobs without a trace. Set maxmemory-policy noeviction (or a volatile-* policy)';
  if (check === 'refuse')
    throw new EvictionPolicyError(
      `${problem}, or start the worker with --eviction-policy-check warn (WORKERPOOL_EVICTION_POLICY_CHECK=warn) to run anyway.`,
    );
  return `${problem}.`;
}
