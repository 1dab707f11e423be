import { describe, expect, it } from 'vitest';
import { addToRate, EMPTY_RATE, rateOf } from './decayed-rate.ts';

describe('decayed rates', () => {
  it('has no rate before anything was observed', () => {
    expect(rateOf(EMPTY_RATE)).toBeUndefined();
  });

  it('is the plain average while the load is steady', () => {
    let rate = EMPTY_RATE;
    for (let second = 0; second < 100; second += 1) rate = addToRate(rate, 5, 1, 10);
    expect(rateOf(rate)).toBeCloseTo(5, 9);
  });

  it('forgets half of the past per half-life', () => {
    const old = addToRate(EMPTY_RATE, 100, 10, 10);
    const decayed = addToRate(old, 0, 0, 10, 10);
    expect(decayed.events).toBeCloseTo(50, 9);
    expect(decayed.seconds).toBeCloseTo(5, 9);
  });

  it('moves most of the way to a new level within a few half-lives', () => {
    let rate = EMPTY_RATE;
    for (let second = 0; second < 300; second += 1) rate = addToRate(rate, 10, 1, 6);
    for (let second = 0; second < 18; second += 1) rate = addToRate(rate, 50, 1, 6);
    expect(rateOf(rate)).toBeGreaterThan(44);
    expect(rateOf(rate)).toBeLessThan(50);
  });
});
