import { describe, expect, it } from 'vitest';
import { LoopWatchdog } from './loop-watchdog.ts';

describe('LoopWatchdog', () => {
  it('reports a loop that owes progress past its limit, and forgives it once it finishes', () => {
    let now = 1_000_000;
    const watchdog = new LoopWatchdog(() => now);
    watchdog.expect('reconcile-0', 60_000);
    now += 59_000;
    expect(watchdog.stuck()).toEqual([]);
    now += 2_000;
    expect(watchdog.stuck()).toEqual(['reconcile-0: no progress for 61s (limit 60s)']);
    watchdog.done('reconcile-0');
    expect(watchdog.stuck()).toEqual([]);
  });

  it('keeps the first deadline when progress is expected again before it was made', () => {
    let now = 0;
    const watchdog = new LoopWatchdog(() => now);
    watchdog.expect('poll redis-a', 10_000);
    now += 8_000;
    watchdog.expect('poll redis-a', 10_000);
    now += 8_000;
    expect(watchdog.stuck()).toHaveLength(1);
    watchdog.remove('poll redis-a');
    expect(watchdog.stuck()).toEqual([]);
  });
});
