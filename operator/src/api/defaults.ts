import { Value } from 'typebox/value';
import { WorkerPoolSpecSchema, type WorkerPoolSpec } from './workerpool-schema.ts';

type DeepPartial<T> = T extends readonly (infer Item)[]
  ? Item[]
  : T extends object
    ? { [K in keyof T]?: DeepPartial<T[K]> }
    : T;

/** A spec as a user writes it: defaulted fields may be left out. */
export type WorkerPoolSpecInput = DeepPartial<WorkerPoolSpec> & Pick<WorkerPoolSpec, 'queue'>;

/**
 * Fills the schema's defaults into a spec, as the API server does on create. Objects read from
 * the API server already carry them; this is for specs built in code (tests, the simulator).
 */
export function applySpecDefaults(input: WorkerPoolSpecInput): WorkerPoolSpec {
  return Value.Default(WorkerPoolSpecSchema, structuredClone(input)) as WorkerPoolSpec;
}
