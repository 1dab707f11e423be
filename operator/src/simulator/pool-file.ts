import { Value } from 'typebox/value';
import { parse } from 'yaml';
import { applySpecDefaults, type WorkerPoolSpecInput } from '../api/defaults.ts';
import { KIND, WorkerPoolSpecSchema, type WorkerPoolSpec } from '../api/workerpool-schema.ts';

// Reads a WorkerPool manifest for the simulator: YAML in, a defaulted and validated spec out,
// or an error that names the offending field the way kubectl would (spec.scaling.maxReplicas).

export class PoolFileError extends Error {
  override name = 'PoolFileError';
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** "/scaling/maxReplicas" -> "spec.scaling.maxReplicas"; list items as [0]. */
export function fieldPath(instancePath: string): string {
  const parts = instancePath.split('/').filter((part) => part !== '');
  return parts.reduce((path, part) => (/^\d+$/.test(part) ? `${path}[${part}]` : `${path}.${part}`), 'spec');
}

export function parsePoolYaml(text: string): WorkerPoolSpec {
  let document: unknown;
  try {
    document = parse(text);
  } catch (error) {
    throw new PoolFileError(`not valid YAML: ${error instanceof Error ? error.message : String(error)}`);
  }
  if (!isRecord(document)) throw new PoolFileError('expected a WorkerPool manifest (a YAML mapping)');
  if (document['kind'] !== KIND)
    throw new PoolFileError(`kind: expected ${KIND}, got ${JSON.stringify(document['kind'])}`);
  const spec = document['spec'];
  if (!isRecord(spec)) throw new PoolFileError('spec: required');
  const defaulted = applySpecDefaults(spec as WorkerPoolSpecInput);
  const [first] = Value.Errors(WorkerPoolSpecSchema, defaulted);
  if (first !== undefined) {
    const missing =
      first.keyword === 'required' ? (first.params as { requiredProperties?: string[] }).requiredProperties : undefined;
    const path = fieldPath(first.instancePath);
    throw new PoolFileError(
      missing !== undefined && missing.length > 0
        ? `${path}.${missing.join(', ')}: required`
        : `${path}: ${first.message}`,
    );
  }
  checkExclusiveBounds(WorkerPoolSpecSchema, defaulted, 'spec');
  checkRules(defaulted);
  return defaulted;
}

/**
 * The schema speaks OpenAPI 3.0, as the API server does, where `exclusiveMinimum: true` makes
 * `minimum` exclusive; the JSON Schema checker above reads exclusiveMinimum as a number and so
 * skips it. Checked here, so that a file the API server rejects is rejected here too.
 */
function checkExclusiveBounds(schema: unknown, value: unknown, path: string): void {
  if (!isRecord(schema)) return;
  if (typeof value === 'number' && schema['exclusiveMinimum'] === true && typeof schema['minimum'] === 'number')
    if (value <= schema['minimum']) throw new PoolFileError(`${path}: must be greater than ${schema['minimum']}`);
  const properties = schema['properties'];
  if (isRecord(properties) && isRecord(value))
    for (const [key, child] of Object.entries(properties)) checkExclusiveBounds(child, value[key], `${path}.${key}`);
  const additional = schema['additionalProperties'];
  if (isRecord(additional) && isRecord(value))
    for (const [key, child] of Object.entries(value)) checkExclusiveBounds(additional, child, `${path}.${key}`);
  if (Array.isArray(value))
    value.forEach((item, index) => checkExclusiveBounds(schema['items'], item, `${path}[${index}]`));
}

/** The schema's cross-field rules (CEL on the API server), checked here as well. */
function checkRules(spec: WorkerPoolSpec): void {
  const scaling = spec.scaling;
  if (scaling.minReplicas > scaling.maxReplicas)
    throw new PoolFileError('spec.scaling.minReplicas: must not exceed maxReplicas');
  if (scaling.fallback !== undefined && scaling.fallback.replicas > scaling.maxReplicas)
    throw new PoolFileError('spec.scaling.fallback.replicas: must not exceed maxReplicas');
  checkQueueTargets(spec);
  if ((spec.template === undefined) === (spec.scaleTargetRef === undefined))
    throw new PoolFileError('spec: exactly one of template or scaleTargetRef must be set');
}

function checkQueueTargets(spec: WorkerPoolSpec): void {
  const targets = spec.scaling.queueTargetLatencySeconds ?? {};
  const field = 'spec.scaling.queueTargetLatencySeconds';
  const unknown = Object.keys(targets).find((queue) => !spec.queue.names.includes(queue));
  if (unknown !== undefined) throw new PoolFileError(`${field}: queue "${unknown}" is not one of queue.names`);
  if (Object.values(targets).some((seconds) => seconds > spec.scaling.targetLatencySeconds))
    throw new PoolFileError(
      `${field}: a queue target must not exceed targetLatencySeconds, which every queue is already sized for`,
    );
}
