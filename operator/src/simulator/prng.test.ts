import { describe, expect, it } from 'vitest';
import { exponential, poisson, seededRandom, standardNormal } from './prng.ts';

const mean = (draws: number[]) => draws.reduce((sum, value) => sum + value, 0) / draws.length;
const draw = (count: number, next: () => number) => Array.from({ length: count }, next);

describe('seeded random', () => {
  it('repeats the same sequence for the same seed, and not for another', () => {
    const a = seededRandom(7);
    const b = seededRandom(7);
    const c = seededRandom(8);
    const first = draw(5, () => a.next());
    expect(draw(5, () => b.next())).toEqual(first);
    expect(draw(5, () => c.next())).not.toEqual(first);
  });

  it('draws uniformly in [0, 1)', () => {
    const random = seededRandom(1);
    const values = draw(20_000, () => random.next());
    expect(Math.min(...values)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...values)).toBeLessThan(1);
    expect(mean(values)).toBeCloseTo(0.5, 1);
  });

  it('draws exponential, normal and Poisson values with the right means', () => {
    const random = seededRandom(2);
    expect(mean(draw(20_000, () => exponential(random, 3)))).toBeCloseTo(3, 0);
    expect(mean(draw(20_000, () => standardNormal(random)))).toBeCloseTo(0, 1);
    expect(mean(draw(20_000, () => poisson(random, 4)))).toBeCloseTo(4, 1);
    expect(mean(draw(5_000, () => poisson(random, 200)))).toBeCloseTo(200, 0);
    expect(poisson(random, 0)).toBe(0);
  });
});
