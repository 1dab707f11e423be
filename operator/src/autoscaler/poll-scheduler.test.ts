import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { LoopWatchdog } from '../loop-watchdog.ts';
import { PollScheduler } from './poll-scheduler.ts';

// The scheduler on a virtual clock: when each endpoint is polled, and that one endpoint's pools
// never change another's rhythm.

beforeEach(() => {
  vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance', 'Date'] });
});
afterEach(() => {
  vi.useRealTimers();
});

/** A scheduler whose polls settle after `pollMs` of virtual time, counting polls per endpoint. */
function scheduler(pollMs = 0) {
  const polls = new Map<string, number>();
  const watchdog = new LoopWatchdog();
  const scheduled = new PollScheduler({
    poll: async (endpoint) => {
      polls.set(endpoint, (polls.get(endpoint) ?? 0) + 1);
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    },
    onPollFailed: () => undefined,
    watchdog,
  });
  return { scheduled, watchdog, pollsOf: (endpoint: string) => polls.get(endpoint) ?? 0 };
}

describe('PollScheduler', () => {
  it('polls a new endpoint at once, then at the shortest interval of its pools', async () => {
    const { scheduled, pollsOf } = scheduler();
    scheduled.join('billing/a', 'redis-1', 5_000);
    scheduled.join('billing/b', 'redis-1', 2_000);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(pollsOf('redis-1')).toBe(6); // 0, 2, 4, 6, 8 and 10 s
    scheduled.leave('billing/b');
    await vi.advanceTimersByTimeAsync(10_000);
    // The poll already set for 12 s, then a's own 5 s rhythm: 17 s.
    expect(pollsOf('redis-1')).toBe(8);
    scheduled.stop();
  });

  it('keeps a fixed rate: a slow poll does not push every later poll back by its own length', async () => {
    const { scheduled, pollsOf } = scheduler(400);
    scheduled.join('billing/a', 'redis-1', 1_000);
    await vi.advanceTimersByTimeAsync(10_000);
    expect(pollsOf('redis-1')).toBe(11); // 0, 1, … 10 s: each started on time, though each took 0.4 s
    scheduled.stop();
  });

  it('stops an endpoint whose last pool left, and starts it again, once, when a pool comes back mid-poll', async () => {
    const { scheduled, pollsOf, watchdog } = scheduler(500);
    scheduled.join('billing/a', 'redis-1', 1_000);
    await vi.advanceTimersByTimeAsync(100); // the first poll is under way
    scheduled.leave('billing/a');
    scheduled.join('billing/a', 'redis-1', 1_000);
    await vi.advanceTimersByTimeAsync(5_000);
    // One chain: polls at 0, 1, 2, 3, 4 and 5 s, not two interleaved chains.
    expect(pollsOf('redis-1')).toBe(6);
    scheduled.leave('billing/a');
    await vi.advanceTimersByTimeAsync(5_000);
    expect(pollsOf('redis-1')).toBe(6);
    expect(watchdog.stuck()).toEqual([]);
    scheduled.stop();
  });

  it('moves a pool to its new endpoint: the old one stops with its last pool, the other keeps its own rhythm', async () => {
    const { scheduled, pollsOf } = scheduler();
    scheduled.join('billing/a', 'redis-1', 1_000);
    scheduled.join('shipping/b', 'redis-2', 3_000);
    await vi.advanceTimersByTimeAsync(0);
    scheduled.join('billing/a', 'redis-3', 1_000);
    expect(scheduled.endpointOf('billing/a')).toBe('redis-3');
    await vi.advanceTimersByTimeAsync(6_000);
    expect(pollsOf('redis-1')).toBe(1);
    expect(pollsOf('redis-2')).toBe(3); // 0, 3 and 6 s
    expect(pollsOf('redis-3')).toBe(7); // 0 to 6 s
    scheduled.stop();
  });
});
