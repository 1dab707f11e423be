import { randomUUID } from 'node:crypto';

/**
 * A generated job id: a random (v4) UUID, 122 random bits. An add whose id is already taken by a
 * live or dead job is a no-op, so ids must not collide across producers, restarts and the dead
 * letters kept for months: at 122 bits, a billion ids a day for a century collide with a
 * probability below one in a billion.
 */
export function generateJobId(): string {
  return randomUUID();
}
