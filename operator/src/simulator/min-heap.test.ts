import { describe, expect, it } from 'vitest';
import { seededRandom } from './prng.ts';
import { MinHeap } from './min-heap.ts';

describe('MinHeap', () => {
  it('pops items by ascending key', () => {
    const heap = new MinHeap<string>();
    const random = seededRandom(5);
    const keys = Array.from({ length: 500 }, () => random.next());
    keys.forEach((key) => heap.push(key, `item-${key}`));
    const popped: string[] = [];
    while (heap.size > 0) popped.push(heap.pop() as string);
    expect(popped).toEqual([...keys].sort((a, b) => a - b).map((key) => `item-${key}`));
  });

  it('is empty-safe', () => {
    const heap = new MinHeap<number>();
    expect(heap.pop()).toBeUndefined();
    expect(heap.peekKey()).toBe(Infinity);
  });
});
