import { describe, expect, it } from 'vitest';
import type { QueueReading } from './queue-reading.ts';
import { formatReadingTable } from './reading-table.ts';

const header = {
  endpoint: 'redis://redis.billing.svc:6379/0',
  format: 'sidekiq' as const,
  queues: ['mailers', 'default'],
};

const bullmqTable = (fields: Partial<QueueReading>) =>
  formatReadingTable(
    { ...header, format: 'bullmq' },
    { observedAtMs: 0, depth: 3, oldestJobAgeSeconds: 1, dueScheduled: 0, ...fields },
  );

describe('the inspect table', () => {
  it('shows every signal the operator scales on, and the workers sorted by pod', () => {
    const text = formatReadingTable(header, {
      observedAtMs: Date.UTC(2026, 10, 23, 9, 40),
      depth: 42,
      oldestJobAgeSeconds: 45.53,
      dueScheduled: 2,
      upcoming: {
        horizonsSeconds: [10, 45, 300],
        dueWithin: [0, 500, 503],
        earliestDueInSeconds: [0, 40.2, 120],
      },
      busy: 8,
      concurrency: 15,
      completedTotal: 123_456,
      workers: [
        { pod: 'mailers-b', busy: 5, concurrency: 5, draining: true },
        { pod: 'mailers-a', busy: 3, concurrency: 10, draining: false },
      ],
    });
    expect(text).toContain('observed at     2026-11-23T09:40:00.000Z (Redis clock)');
    expect(text).toContain('depth           42');
    expect(text).toContain('oldest job age  45.5 s');
    expect(text).toContain('due scheduled   2');
    expect(text).toContain('coming due      500 within 45 s (first in 40.2 s), 503 within 300 s (first in 120.0 s)');
    expect(text).toContain('completed total 123456');
    expect(text).toContain(
      "signal profile  sidekiq: depth, oldest age, busy, per-process concurrency and quiet, and stat:processed as the pool's completion counter while every live process on the Redis serves only the pool's queues",
    );
    const lines = text.split('\n');
    const podHeader = lines.findIndex((l) => l.includes('POD'));
    expect(lines[podHeader + 1]).toMatch(/^ {2}mailers-a +3 +10 +no$/);
    expect(lines[podHeader + 2]).toMatch(/^ {2}mailers-b +5 +5 +yes$/);
  });

  it('says how many live heartbeats were left out of busy and concurrency, and names the first', () => {
    const text = formatReadingTable(header, {
      observedAtMs: 0,
      depth: 0,
      oldestJobAgeSeconds: 0,
      dueScheduled: 0,
      busy: 0,
      concurrency: 0,
      workers: [],
      unreadableHeartbeats: { count: 2, first: 'web-9:1:aaaaaa: info is not a JSON object' },
    });
    expect(text).toContain(
      'unreadable      2 heartbeat(s) left out of busy and concurrency (first web-9:1:aaaaaa: info is not a JSON object)',
    );
  });

  it('says why latency is unknown and which signals the format does not record', () => {
    const text = formatReadingTable(
      { ...header, format: 'list' },
      {
        observedAtMs: 0,
        depth: 3,
        oldestJobAgeSeconds: undefined,
        latencyUnavailableReason: 'list items carry no enqueue time',
        dueScheduled: 0,
      },
    );
    expect(text).toContain('oldest job age  unknown (list items carry no enqueue time)');
    expect(text).toContain('busy            not recorded by this format');
    expect(text).not.toContain('workers');
    expect(text).toContain('signal profile  list: depth only (items carry no timestamp)');
  });

  it('lists each queue of a pool that reads several, with its own depth and oldest age', () => {
    const text = bullmqTable({
      depth: 33,
      oldestJobAgeSeconds: 12.3,
      queues: [
        { name: 'critical', depth: 30, oldestJobAgeSeconds: 12.3 },
        { name: 'default', depth: 3, oldestJobAgeSeconds: 1.5, paused: true },
      ],
    });
    const lines = text.split('\n');
    const queueHeader = lines.findIndex((l) => l.includes('QUEUE'));
    expect(lines[queueHeader - 1]).toMatch(/^oldest job age/);
    expect(lines[queueHeader + 1]).toMatch(/^ {2}critical +30 +12\.3 s$/);
    expect(lines[queueHeader + 2]).toMatch(/^ {2}default +3 +1\.50 s +paused$/);
  });

  it("shows the BullMQ queue's own limits, which cap the replicas", () => {
    const text = bullmqTable({ busy: 2, capacity: { maxActiveJobs: 12, maxJobsPerSecond: 15 } });
    expect(text).toContain('\nmax active      12 jobs (global concurrency)\n');
    expect(text).toContain('\nrate limit      15 jobs/s');
  });
});
