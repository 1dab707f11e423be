import { describe, expect, it } from 'vitest';
import {
  FORECAST_STATUS_REFRESH_SECONDS,
  QUEUE_STATUS_REFRESH_SECONDS,
  type ForecastStatus,
} from '../api/workerpool-schema.ts';
import { ConditionType, Reason } from '../controller/conditions.ts';
import { emptySeasonalModel, learnArrivals } from '../scaling/seasonal-model.ts';
import {
  busyByPod,
  forecastStatusOf,
  nextPublished,
  queueStatusOf,
  readingKeyOf,
  seasonalModelOf,
  type Published,
} from './status-publisher.ts';

const read = {
  type: ConditionType.SignalsAvailable,
  status: 'True',
  reason: Reason.SignalsRead,
  message: 'read',
} as const;
const failed = {
  type: ConditionType.SignalsAvailable,
  status: 'False',
  reason: Reason.SignalsReadFailed,
  message: 'connection refused',
} as const;
const published = (depth: number, atMs: number, extra: Partial<Published> = {}): Published => {
  const queue = { depth, observedAt: new Date(atMs).toISOString() };
  return { queue, conditions: [read], desiredReplicas: 3, readingKey: readingKeyOf(queue), atMs, ...extra };
};

/** Whether `next` is written at `nowMs` after `previous`, and what is written then. */
const publish = (previous: Published, next: Published, nowMs: number) =>
  nextPublished(previous, next, () => next.queue, nowMs);

describe('nextPublished', () => {
  const t0 = 1_000_000;
  it('holds a changed reading back until the refresh period has passed', () => {
    const next = published(9, t0 + 5_000);
    expect(publish(published(4, t0), next, t0 + 5_000)).toBeUndefined();
    const refreshAt = t0 + QUEUE_STATUS_REFRESH_SECONDS * 1000;
    expect(publish(published(4, t0), next, refreshAt)).toEqual({ ...next, atMs: refreshAt });
  });

  it('writes a new decision or a condition flip at once, with the latest readings', () => {
    const scaled = published(9, t0 + 1_000, { desiredReplicas: 5 });
    expect(publish(published(4, t0), scaled, t0 + 1_000)).toEqual(scaled);
    const failing = published(4, t0 + 1_000, { conditions: [failed] });
    expect(publish(published(4, t0), failing, t0 + 1_000)).toEqual(failing);
  });

  it('never rewrites a reading that only got newer', () => {
    expect(publish(published(4, t0), published(4, t0 + 60_000), t0 + 60_000)).toBeUndefined();
  });

  it('builds no readings on a poll where nothing can be due', () => {
    let built = 0;
    const queueOf = () => {
      built += 1;
      return published(9, t0).queue;
    };
    expect(nextPublished(published(4, t0), published(9, t0 + 5_000), queueOf, t0 + 5_000)).toBeUndefined();
    expect(built).toBe(0);
    expect(nextPublished(undefined, published(9, t0 + 5_000), queueOf, t0 + 5_000)).toBeDefined();
    expect(built).toBe(1);
  });
});

describe('busyByPod', () => {
  it('sums the workers of each pod', () => {
    const workers = [
      { pod: 'a', busy: 2, concurrency: 5, draining: false },
      { pod: 'a', busy: 1, concurrency: 5, draining: false },
      { pod: 'b', busy: 0, concurrency: 5, draining: false },
    ];
    expect(busyByPod({ observedAtMs: 0, depth: 0, oldestJobAgeSeconds: 0, dueScheduled: 0, workers })).toEqual(
      new Map([
        ['a', 3],
        ['b', 0],
      ]),
    );
  });
});

describe('queueStatusOf', () => {
  it('names the heartbeats the reader left out, so that a pool read as idle says why', () => {
    const reading = {
      observedAtMs: 0,
      depth: 4,
      oldestJobAgeSeconds: 12.345,
      dueScheduled: 0,
      busy: 1,
      concurrency: 5,
    };
    const first = 'web-9:1:aaaaaa: no concurrency in the process hash, its info or its capsules';
    const status = queueStatusOf(
      { reading: { ...reading, unreadableHeartbeats: { count: 2, first } }, stale: false, ageSeconds: 0 },
      0.5,
    );
    expect(status).toMatchObject({ busy: 1, concurrency: 5, unreadableHeartbeats: 2, firstUnreadableHeartbeat: first });
    const healthy = queueStatusOf({ reading, stale: false, ageSeconds: 0 }, 0.5);
    expect(healthy).not.toHaveProperty('unreadableHeartbeats');
    expect(healthy).not.toHaveProperty('firstUnreadableHeartbeat');
  });
});

describe('the learned arrival pattern in status (scaling.predictive)', () => {
  const t0 = 1_000_000;
  const DAY_MS = 86_400_000;
  const learned = () => {
    let model = emptySeasonalModel();
    for (let atMs = 10_000; atMs <= DAY_MS; atMs += 10_000) model = learnArrivals(model, atMs, 30, 10);
    return model;
  };

  it('writes a fresh copy when one is due, even with nothing else to write, and carries it in between', () => {
    const model = learned();
    const first = nextPublished(
      published(4, t0),
      published(4, t0),
      () => undefined,
      t0,
      () => forecastStatusOf(model, t0),
    );
    expect(first?.forecast?.day[0]).toBe(3);
    expect(first?.forecastAtMs).toBe(t0);
    // A decision a minute later carries the same copy; the model is not asked for a new one.
    const scaled = nextPublished(
      first,
      published(4, t0 + 60_000, { desiredReplicas: 5 }),
      () => undefined,
      t0 + 60_000,
      () => {
        throw new Error('not due');
      },
    );
    expect(scaled?.forecast).toBe(first?.forecast);
    const dueAt = t0 + FORECAST_STATUS_REFRESH_SECONDS * 1000;
    const refreshed = nextPublished(
      scaled,
      published(4, dueAt, { desiredReplicas: 5 }),
      () => undefined,
      dueAt,
      () => forecastStatusOf(model, dueAt),
    );
    expect(refreshed?.forecast?.savedAt).toBe(new Date(dueAt).toISOString().replace(/\.\d{3}Z$/, 'Z'));
  });

  it('writes nothing for a pool that learns nothing (predictive disabled)', () => {
    expect(
      nextPublished(
        published(4, t0),
        published(4, t0),
        () => undefined,
        t0,
        () => undefined,
      ),
    ).toBeUndefined();
  });

  it('round-trips the model through status, and refuses a copy that is not one', () => {
    const model = learned();
    const status = forecastStatusOf(model, t0);
    const restored = seasonalModelOf(status);
    expect(restored?.day).toEqual(model.day);
    expect(restored?.sinceMs).toBe(Math.floor((model.sinceMs ?? 0) / 1000) * 1000);
    expect(seasonalModelOf({ ...(status as ForecastStatus), hour: [1, 2, 3] })).toBeUndefined();
    expect(seasonalModelOf({ ...(status as ForecastStatus), learningSince: 'yesterday' })).toBeUndefined();
  });
});
