import { deflateRawSync, inflateRawSync } from 'node:zlib';
import type { V1Deployment, V1PodTemplateSpec } from '@kubernetes/client-node';
import type { WorkerPool } from '../api/workerpool-schema.ts';

// A pod template is the one part of a pool, and of its worker Deployment, whose size the tenant
// chooses. Parsed, a 100 KB template costs about three times that in the V8 heap, which the image
// caps at 128 MiB, and the informers hold it twice (pool and Deployment). The caches keep it as
// compressed JSON in a Buffer, outside the heap; a reconcile unpacks it only to build or compare
// the Deployment, and drops the copy when the pass ends.

/**
 * The largest pod template, as compact JSON, that the operator caches and applies. The CRD bounds
 * the template's lists and strings, but not the fields it preserves as written (CEL cannot see
 * them), so this is what bounds the memory one pool can cost. A template above it is not applied:
 * the pool is Stalled with a message naming spec.template.
 */
export const MAX_TEMPLATE_BYTES = 128 * 1024;

const PACKED = Symbol('packed pod template');

/** A template as the caches hold it: no readable fields, the JSON compressed behind a symbol. */
interface PackedTemplate extends V1PodTemplateSpec {
  [PACKED]: { bytes: number; deflated: Buffer | undefined };
}

const isPacked = (template: V1PodTemplateSpec | undefined): template is PackedTemplate =>
  template !== undefined && PACKED in template;

/**
 * The template in its cached form. `reuse` is the cached form of the same object's previous
 * version: when it has the same generation the spec did not change, and its Buffer is taken as
 * it is, so a status update costs no compression.
 */
export function packTemplate(template: V1PodTemplateSpec, reuse?: V1PodTemplateSpec): V1PodTemplateSpec {
  if (isPacked(template)) return template;
  if (isPacked(reuse)) return reuse;
  const json = JSON.stringify(template);
  const bytes = Buffer.byteLength(json);
  const packed: PackedTemplate = {
    // An oversized template is not kept at all: its size is all the reconcile needs to refuse it.
    [PACKED]: { bytes, deflated: bytes > MAX_TEMPLATE_BYTES ? undefined : deflateRawSync(json, { level: 1 }) },
  };
  // A cached template read as if it were whole would look empty (a default grace period, no
  // containers) without a word: reading its fields fails loudly instead. Not enumerable, so
  // copies, JSON and logs of the pool do not trip over them.
  const refuse = (field: string) => ({
    get(): never {
      throw new Error(
        `spec.template.${field} of a cached object is packed: read it with unpackTemplate or withTemplate`,
      );
    },
  });
  Object.defineProperties(packed, { metadata: refuse('metadata'), spec: refuse('spec') });
  return packed;
}

/** The template as written, from the cache's packed form or as it is when it was never packed. */
export function unpackTemplate(template: V1PodTemplateSpec | undefined): V1PodTemplateSpec | undefined {
  if (!isPacked(template)) return template;
  const { deflated, bytes } = template[PACKED];
  if (!deflated) throw new Error(`spec.template is ${bytes} bytes, above the ${MAX_TEMPLATE_BYTES} the operator keeps`);
  return JSON.parse(inflateRawSync(deflated).toString('utf8')) as V1PodTemplateSpec;
}

/** Why a template is refused, naming the field, or undefined when it is within the bound. */
export function oversizedTemplate(template: V1PodTemplateSpec | undefined): string | undefined {
  const bytes = isPacked(template)
    ? template[PACKED].bytes
    : template === undefined
      ? 0
      : Buffer.byteLength(JSON.stringify(template));
  if (bytes <= MAX_TEMPLATE_BYTES) return undefined;
  return `spec.template is ${bytes} bytes as JSON, above the ${MAX_TEMPLATE_BYTES} bytes (128 KiB) the operator accepts`;
}

/** Bytes the cache holds for a template outside the V8 heap (0 when it was never packed). */
export function packedTemplateBytes(template: V1PodTemplateSpec | undefined): number {
  return isPacked(template) ? (template[PACKED].deflated?.byteLength ?? 0) : 0;
}

/** A shallow copy of a cached pool or Deployment with its template unpacked, for one reconcile. */
export function withTemplate<T extends WorkerPool | V1Deployment>(object: T): T {
  const template = object.spec?.template;
  if (!isPacked(template)) return object;
  return { ...object, spec: { ...object.spec, template: unpackTemplate(template) } };
}
