import { describe, expect, it } from 'vitest';
import { backoffDelayMs, MAX_BACKOFF_MS } from './backoff.ts';

describe('retry backoff', () => {
  const exponential = { type: 'exponential', delayMs: 1_000 } as const;

  it('doubles with every retry, jittered between half and all of it', () => {
    expect([1, 2, 3, 4].map((retry) => backoffDelayMs(exponential, retry, () => 1))).toEqual([
      1_000, 2_000, 4_000, 8_000,
    ]);
    expect([1, 2, 3, 4].map((retry) => backoffDelayMs(exponential, retry, () => 0))).toEqual([
      500, 1_000, 2_000, 4_000,
    ]);
  });

  it('spreads jobs that failed together over the jitter window', () => {
    const delays = new Set(Array.from({ length: 50 }, () => backoffDelayMs(exponential, 3)));
    expect(delays.size).toBeGreaterThan(40);
    for (const d of delays) expect(d).toBeGreaterThanOrEqual(2_000);
  });

  it('never waits more than an hour', () => {
    expect(backoffDelayMs(exponential, 40, () => 1)).toBe(MAX_BACKOFF_MS);
  });

  it('waits the same for every retry when fixed, and not at all with a zero delay', () => {
    expect(backoffDelayMs({ type: 'fixed', delayMs: 250 }, 5, () => 0)).toBe(250);
    expect(backoffDelayMs({ type: 'exponential', delayMs: 0 }, 5)).toBe(0);
  });
});
