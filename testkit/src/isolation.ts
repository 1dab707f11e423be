import { randomBytes } from 'node:crypto';

/** A short random suffix so that tests sharing one Redis or one API server never collide. */
export function uniqueSuffix(): string {
  return randomBytes(4).toString('hex');
}

/** A Redis key prefix of the test's own, e.g. `t-3fa9c1d2:`. */
export function uniqueKeyPrefix(label = 't'): string {
  return `${label}-${uniqueSuffix()}:`;
}
