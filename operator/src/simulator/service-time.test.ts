import { describe, expect, it } from 'vitest';
import { seededRandom } from './prng.ts';
import { describeServiceTime, drawServiceSeconds, meanServiceSeconds, type ServiceTimeSpec } from './service-time.ts';

function sample(spec: ServiceTimeSpec, count: number): number[] {
  const random = seededRandom(3);
  return Array.from({ length: count }, () => drawServiceSeconds(spec, random));
}

describe('service times', () => {
  it('fixed is always the same', () => {
    expect(new Set(sample({ kind: 'fixed', seconds: 1.5 }, 100))).toEqual(new Set([1.5]));
  });

  it('log-normal keeps the given mean and has a heavy tail', () => {
    const spec: ServiceTimeSpec = { kind: 'lognormal', meanSeconds: 3, sigma: 1.2 };
    const values = sample(spec, 200_000).sort((a, b) => a - b);
    const average = values.reduce((sum, value) => sum + value, 0) / values.length;
    expect(average).toBeGreaterThan(2.8);
    expect(average).toBeLessThan(3.2);
    const median = values[values.length / 2] as number;
    const p99 = values[Math.floor(values.length * 0.99)] as number;
    expect(median).toBeLessThan(average);
    expect(p99).toBeGreaterThan(8 * median);
    expect(meanServiceSeconds(spec)).toBe(3);
  });

  it('describes itself', () => {
    expect(describeServiceTime({ kind: 'exponential', meanSeconds: 2 })).toBe('exponential, mean 2s');
  });
});
