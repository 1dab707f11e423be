import { describe, expect, it } from 'vitest';
import type { QueueReading } from '../signals/index.ts';
import { countThroughput, type Throughput } from './throughput.ts';

const start: Throughput = { perSecond: undefined, last: undefined };
const reading = (atSeconds: number, completedTotal: number, extra: Partial<QueueReading> = {}): QueueReading => ({
  observedAtMs: atSeconds * 1000,
  depth: 0,
  oldestJobAgeSeconds: 0,
  dueScheduled: 0,
  completedTotal,
  ...extra,
});
const run = (format: Parameters<typeof countThroughput>[2], readings: QueueReading[]) =>
  readings.reduce((t, r) => countThroughput(t, r, format), start);

describe('the throughput a pool shows', () => {
  it("counts a native pool's completions poll by poll", () => {
    expect(run('native', [reading(0, 100), reading(2, 120)]).perSecond).toBe(10);
  });

  it("shows no rate for a Sidekiq pool whose Redis other pools' processes also count into", () => {
    const shared = { completedSharedWith: 'host-1:12:abc serves reports', completedGranularitySeconds: 10 };
    expect(run('sidekiq', [reading(0, 5_000, shared), reading(10, 9_000, shared)]).perSecond).toBeUndefined();
  });

  it("reads a Sidekiq pool's own counter, which moves at heartbeats, only over whole heartbeats", () => {
    // Sidekiq 7/8 add each process's count every 10 s: polls at 2 s see a lump, then nothing.
    const lumpy = { completedGranularitySeconds: 10 };
    const polls = [0, 2, 4, 6, 8, 10, 12].map((at) => reading(at, at < 9 ? 1_000 : 1_200, lumpy));
    const rates = polls.reduce<{ t: Throughput; seen: (number | undefined)[] }>(
      ({ t, seen }, r) => {
        const next = countThroughput(t, r, 'sidekiq');
        return { t: next, seen: [...seen, next.perSecond] };
      },
      { t: start, seen: [] },
    ).seen;
    // No spike of 100 jobs/s at the poll that saw the lump, no 0 at the ones that did not:
    // 200 jobs over the 10 s span, once it has passed.
    expect(rates).toEqual([undefined, undefined, undefined, undefined, undefined, 20, 20]);
  });

  it('starts again after a counter reset (a Redis flush)', () => {
    expect(run('native', [reading(0, 500), reading(2, 520), reading(4, 3), reading(6, 13)]).perSecond).toBe(5);
  });
});
