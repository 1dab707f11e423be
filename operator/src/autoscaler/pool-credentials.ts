import type { WorkerPool } from '../api/workerpool-schema.ts';
import type { RedisCredentials, TlsMaterial } from '../signals/index.ts';

/** Reads one key of a Secret; undefined when the Secret or the key does not exist. */
export type ReadSecretValue = (namespace: string, name: string, key: string) => Promise<string | undefined>;

export type PoolCredentials =
  | { ok: true; credentials: RedisCredentials; tls: TlsMaterial | undefined }
  /** A Secret or key that is missing: the message names the field that points at it. */
  | { ok: false; problem: string };

/** The Redis credentials a pool's spec.queue.redis refers to. API errors are thrown, not folded in. */
export async function readPoolCredentials(
  pool: WorkerPool,
  readSecretValue: ReadSecretValue,
): Promise<PoolCredentials> {
  const redis = pool.spec.queue.redis;
  const namespace = pool.metadata.namespace ?? '';
  const refs = [
    ['passwordSecretRef', redis.passwordSecretRef],
    ['usernameSecretRef', redis.usernameSecretRef],
    ['tls.caSecretRef', redis.tls?.caSecretRef],
  ] as const;
  const values: (string | undefined)[] = [];
  for (const [field, ref] of refs) {
    if (!ref) {
      values.push(undefined);
      continue;
    }
    const value = await readSecretValue(namespace, ref.name, ref.key);
    if (value === undefined)
      return {
        ok: false,
        problem: `spec.queue.redis.${field}: Secret ${namespace}/${ref.name} has no key "${ref.key}" (or does not exist)`,
      };
    values.push(value);
  }
  const [password, username, ca] = values;
  const credentials: { password?: string; username?: string } = {};
  if (password !== undefined) credentials.password = password;
  if (username !== undefined) credentials.username = username;
  return { ok: true, credentials, tls: ca === undefined ? undefined : { ca } };
}

/** Whether a pool names any Secret: only then can re-reading them fix an authentication error. */
export function namesSecrets(pool: WorkerPool): boolean {
  const redis = pool.spec.queue.redis;
  return Boolean(redis.passwordSecretRef ?? redis.usernameSecretRef ?? redis.tls?.caSecretRef);
}
