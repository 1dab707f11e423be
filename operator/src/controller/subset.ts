/**
 * True when every field of `wanted` is present with the same value in `actual`; extra fields in
 * `actual` (server defaults, other managers' fields) do not count. Lists must match item by item.
 * It lets the operator skip an apply that would change nothing, so an idle cluster sees no writes.
 */
export function isSubset(wanted: unknown, actual: unknown): boolean {
  if (wanted === undefined) return true;
  if (wanted === null || typeof wanted !== 'object') return wanted === actual;
  if (actual === null || typeof actual !== 'object') return false;
  if (Array.isArray(wanted)) {
    return (
      Array.isArray(actual) &&
      wanted.length === actual.length &&
      wanted.every((item, index) => isSubset(item, actual[index]))
    );
  }
  const actualRecord = actual as Record<string, unknown>;
  return Object.entries(wanted as Record<string, unknown>).every(([key, value]) => isSubset(value, actualRecord[key]));
}
