import { describe, expect, it } from 'vitest';
import { boundedAll } from './bounded-all.ts';

describe('boundedAll', () => {
  it('runs every task, never more than the limit at once', async () => {
    let running = 0;
    let most = 0;
    const done: number[] = [];
    await boundedAll([1, 2, 3, 4, 5, 6, 7], 3, async (n) => {
      running++;
      most = Math.max(most, running);
      await new Promise((resolve) => setTimeout(resolve, 5 * (n % 3)));
      done.push(n);
      running--;
    });
    expect(done.sort()).toEqual([1, 2, 3, 4, 5, 6, 7]);
    expect(most).toBe(3);
  });

  it('finishes the other tasks before it reports the first failure', async () => {
    const done: number[] = [];
    const run = boundedAll([1, 2, 3, 4], 2, async (n) => {
      if (n === 2) throw new Error('pod 2 is gone');
      await new Promise((resolve) => setTimeout(resolve, 1));
      done.push(n);
    });
    await expect(run).rejects.toThrow('pod 2 is gone');
    expect(done.sort()).toEqual([1, 3, 4]);
  });
});
