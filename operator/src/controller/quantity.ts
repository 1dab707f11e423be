// Kubernetes resource quantities (`cpu: 1`, `cpu: 0.5`, `memory: 1G`, `1536Mi`) as the API server
// reads them (k8s.io/apimachinery pkg/api/resource, ParseQuantity): a template may write one as
// a number or in any of several spellings, and the server answers in its own canonical one
// ("1", "500m", "1G", "1536Mi"), so two spellings are the same quantity when their values are.

const DECIMAL_SUFFIXES: Readonly<Record<string, number>> = {
  n: -9,
  u: -6,
  m: -3,
  '': 0,
  k: 3,
  M: 6,
  G: 9,
  T: 12,
  P: 15,
  E: 18,
};
const BINARY_SUFFIXES: Readonly<Record<string, number>> = { Ki: 10, Mi: 20, Ti: 40, Gi: 30, Pi: 50, Ei: 60 };
const MAX_POWER_OF_TEN = 64;
const SHAPE = /^([+-]?)([0-9]*)(?:\.([0-9]*))?([a-zA-Z]*[-+]?[0-9]*)$/;

/**
 * The value of a quantity in nano-units, rounded away from zero to a whole nano-unit as the API
 * server rounds it; undefined when `written` is not a quantity.
 */
export function quantityNanos(written: unknown): bigint | undefined {
  const text = typeof written === 'number' && Number.isFinite(written) ? String(written) : written;
  if (typeof text !== 'string') return undefined;
  const match = SHAPE.exec(text);
  if (!match) return undefined;
  const [, sign = '', whole = '', fraction = '', suffix = ''] = match;
  if (whole.length + fraction.length === 0) return undefined;
  let tens: number;
  let twos = 0;
  if (suffix in DECIMAL_SUFFIXES) tens = DECIMAL_SUFFIXES[suffix] ?? 0;
  else if (suffix in BINARY_SUFFIXES) [tens, twos] = [0, BINARY_SUFFIXES[suffix] ?? 0];
  else if (/^[eE][-+]?[0-9]+$/.test(suffix)) tens = Number(suffix.slice(1));
  else return undefined;
  tens += 9 - fraction.length; // into nano-units, the fraction's digits made whole
  // Far beyond any resource (an exabyte is 1e18): no point computing 10 ** 1e9 for a tenant's typo.
  if (Math.abs(tens) > MAX_POWER_OF_TEN) return undefined;
  const numerator = BigInt(whole + fraction) * 2n ** BigInt(twos) * 10n ** BigInt(Math.max(tens, 0));
  const denominator = 10n ** BigInt(Math.max(-tens, 0));
  const nanos = (numerator + denominator - 1n) / denominator;
  return sign === '-' ? -nanos : nanos;
}

/** True when both are quantities of the same value, however each is written. */
export function sameQuantity(a: unknown, b: unknown): boolean {
  const left = quantityNanos(a);
  return left !== undefined && left === quantityNanos(b);
}
