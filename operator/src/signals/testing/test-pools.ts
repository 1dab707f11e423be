import type { QueueSpec } from '../../api/workerpool-schema.ts';

/** A queue spec for tests: the format's defaults, filled in as the API server would. */
export function queueSpec(url: string, overrides: Partial<QueueSpec> & Pick<QueueSpec, 'format' | 'names'>): QueueSpec {
  return { redis: { url }, ...overrides };
}
