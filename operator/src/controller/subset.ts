import { sameQuantity } from './quantity.ts';

/** Maps whose values are resource quantities, wherever they appear in a pod template's spec. */
const QUANTITY_MAPS = new Set(['limits', 'requests', 'overhead']);
/** Single fields that hold a quantity. */
const QUANTITY_FIELDS = new Set(['sizeLimit']);

/**
 * True when every field of `wanted` is present with the same value in `actual`; extra fields in
 * `actual` (server defaults, other managers' fields) do not count. Lists must match item by item.
 * It lets the operator skip an apply that would change nothing, so an idle cluster sees no writes.
 *
 * "The same" is as the API server stores it, or every pass would see a difference that the apply
 * cannot remove, and re-apply forever: a quantity matches its canonical spelling (`cpu: 0.5` is
 * "500m"), and a zero value (`false`, 0, "", an empty list or map, null) matches an absent field,
 * which is how the server returns the zero of an `omitempty` field.
 */
export function isSubset(wanted: unknown, actual: unknown): boolean {
  return covers(wanted, actual, 'spec');
}

/** `metadata` holds labels and annotations: free text, where a key named "limits" means nothing. */
type Where = 'spec' | 'metadata' | 'quantity-map' | 'quantity';

function covers(wanted: unknown, actual: unknown, where: Where): boolean {
  if (wanted === undefined) return true;
  if (actual === undefined && isZero(wanted)) return true;
  if (where === 'quantity' && sameQuantity(wanted, actual)) return true;
  if (wanted === null || typeof wanted !== 'object') return wanted === actual;
  if (actual === null || typeof actual !== 'object') return false;
  if (Array.isArray(wanted)) {
    return (
      Array.isArray(actual) &&
      wanted.length === actual.length &&
      wanted.every((item, index) => covers(item, actual[index], where === 'metadata' ? where : 'spec'))
    );
  }
  const actualRecord = actual as Record<string, unknown>;
  return Object.entries(wanted as Record<string, unknown>).every(([key, value]) =>
    covers(value, actualRecord[key], within(where, key, value)),
  );
}

function within(where: Where, key: string, value: unknown): Where {
  if (where === 'metadata') return where;
  if (where === 'quantity-map') return 'quantity';
  if (key === 'metadata') return 'metadata';
  if (QUANTITY_FIELDS.has(key)) return 'quantity';
  if (QUANTITY_MAPS.has(key) && value !== null && typeof value === 'object' && !Array.isArray(value))
    return 'quantity-map';
  return 'spec';
}

function isZero(value: unknown): boolean {
  if (value === null || value === false || value === 0 || value === '') return true;
  if (Array.isArray(value)) return value.length === 0;
  return typeof value === 'object' && Object.keys(value).length === 0;
}
