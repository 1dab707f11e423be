import { describe, expect, it } from 'vitest';
import { quantityNanos, sameQuantity } from './quantity.ts';

// Each pair: what a template may write, and what kube-apiserver 1.36 answers for it (the
// canonical form of k8s.io/apimachinery's Quantity.String()).
const SPELLINGS: ReadonlyArray<readonly [unknown, string]> = [
  [1, '1'],
  [0.5, '500m'],
  ['0.5', '500m'],
  [0.1, '100m'],
  [1.5, '1500m'],
  ['1G', '1G'],
  ['1000M', '1G'],
  [1e9, '1G'],
  ['1e9', '1e9'],
  ['1.5Gi', '1536Mi'],
  ['2048Ki', '2Mi'],
  ['0.5Ki', '512'],
  [1024, '1024'],
  ['0.0000000001', '1n'], // rounded up to the smallest unit, never to zero
  [0, '0'],
  ['+250m', '250m'],
  ['-1', '-1'],
];

describe('quantities', () => {
  it.each(SPELLINGS)('reads %j as the same value as the server answer %s', (written, canonical) => {
    expect(quantityNanos(written)).toBeDefined();
    expect(sameQuantity(written, canonical)).toBe(true);
  });

  it('tells different values apart, however they are written', () => {
    expect(sameQuantity('1Gi', '1G')).toBe(false);
    expect(sameQuantity(1, '1001m')).toBe(false);
    expect(sameQuantity('500m', '501m')).toBe(false);
    expect(quantityNanos('1.5')).toBe(1_500_000_000n);
  });

  it('reads what is not a quantity as no quantity', () => {
    for (const text of ['', 'abc', '1X', '1 G', '1e', '.', 'Gi', true, {}, Number.NaN])
      expect(quantityNanos(text), JSON.stringify(text)).toBeUndefined();
    // An exponent far beyond any resource is refused, not computed.
    expect(quantityNanos('1e1000000000')).toBeUndefined();
  });
});
