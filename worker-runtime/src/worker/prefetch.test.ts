import { describe, expect, it } from 'vitest';
import { prefetchCount, RunTimeAverage } from './prefetch.ts';

describe('prefetch', () => {
  it('is off until the worker knows how long its jobs take', () => {
    expect(prefetchCount(10, new RunTimeAverage().ms)).toBe(0);
  });

  it('holds one extra batch while jobs are short, and stops once they get long', () => {
    const average = new RunTimeAverage();
    for (let i = 0; i < 20; i += 1) average.observe(1);
    expect(prefetchCount(10, average.ms)).toBe(10);
    for (let i = 0; i < 30; i += 1) average.observe(500);
    expect(prefetchCount(10, average.ms)).toBe(0);
  });

  it('follows a moving average, so one slow job does not switch it off', () => {
    const average = new RunTimeAverage();
    for (let i = 0; i < 20; i += 1) average.observe(2);
    average.observe(100);
    expect(average.ms).toBeCloseTo(11.8, 1);
    expect(prefetchCount(4, average.ms)).toBe(4);
  });
});
