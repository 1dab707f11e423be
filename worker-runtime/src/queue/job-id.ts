import { randomBytes } from 'node:crypto';

/** Generates short ids unique across processes: a random per-process stem and a counter. */
export function createJobIdGenerator(): () => string {
  const stem = randomBytes(4).toString('hex');
  let counter = 0;
  return () => `${stem}${(counter++).toString(36)}`;
}
