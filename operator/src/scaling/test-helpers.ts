import { applySpecDefaults, type WorkerPoolSpecInput } from '../api/defaults.ts';
import type { ScalingSpec } from '../api/workerpool-schema.ts';
import type { QueueReading } from '../signals/queue-reading.ts';

// Builders for the engine's tests: a defaulted scaling spec and a reading with named fields.

export function scalingSpec(scaling: WorkerPoolSpecInput['scaling'] = {}): ScalingSpec {
  return applySpecDefaults({
    queue: { format: 'native', names: ['jobs'], redis: { url: 'redis://test:6379' } },
    scaling,
  }).scaling;
}

export function reading(fields: Partial<QueueReading> & { observedAtMs: number }): QueueReading {
  return { depth: 0, oldestJobAgeSeconds: 0, dueScheduled: 0, busy: 0, completedTotal: 0, ...fields };
}
