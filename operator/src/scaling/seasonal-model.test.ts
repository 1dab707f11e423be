import { describe, expect, it } from 'vitest';
import {
  DAY_BUCKETS,
  emptySeasonalModel,
  forecastError,
  forecastMinute,
  forecastPeak,
  learnArrivals,
  persistSeasonalModel,
  restoreSeasonalModel,
  type SeasonalModel,
} from './seasonal-model.ts';

const DAY_MS = 86_400_000;
const POLL_SECONDS = 10;

/** Feeds the model `rate(ms)` jobs/s, counted every poll, from `fromMs` to `toMs`. */
function learn(model: SeasonalModel, fromMs: number, toMs: number, rate: (atMs: number) => number): SeasonalModel {
  let next = model;
  for (let atMs = fromMs + POLL_SECONDS * 1000; atMs <= toMs; atMs += POLL_SECONDS * 1000)
    next = learnArrivals(next, atMs, rate(atMs - 1) * POLL_SECONDS, POLL_SECONDS);
  return next;
}

const minuteOf = (dayMs: number, hour: number, minute: number) => (dayMs + hour * 3_600_000 + minute * 60_000) / 60_000;
const at = (hour: number, minute: number) => hour * 3_600_000 + minute * 60_000;

describe('seasonal model', () => {
  it('forecasts nothing before it has seen the time of day', () => {
    expect(forecastMinute(emptySeasonalModel(), minuteOf(0, 9, 0))).toBeUndefined();
    expect(forecastError(emptySeasonalModel())).toBeUndefined();
  });

  it('forecasts a daily 10-minute campaign the next day, and the quiet hours around it', () => {
    const campaign = (atMs: number) => {
      const ofDay = atMs % DAY_MS;
      return ofDay >= at(9, 0) && ofDay < at(9, 10) ? 50 : 5;
    };
    const model = learn(emptySeasonalModel(), 0, DAY_MS + at(0, 10), campaign);
    expect(forecastMinute(model, minuteOf(DAY_MS, 9, 2))).toBeCloseTo(50, 1);
    expect(forecastMinute(model, minuteOf(DAY_MS, 12, 0))).toBeCloseTo(5, 0);
    // 30 s before 09:00 the peak within the next 40 s is the campaign's first minute, 30 s away.
    const peak = forecastPeak(model, DAY_MS + at(8, 59.5), DAY_MS + at(9, 0.2));
    expect(peak?.ratePerSecond).toBeCloseTo(50, 0);
    expect(peak?.inSeconds).toBe(30);
  });

  it('forecasts an hourly one-minute cron at its minute, not smeared over its 5-minute bucket', () => {
    const cron = (atMs: number) => (atMs % 3_600_000 < 60_000 ? 70 : 10);
    const model = learn(emptySeasonalModel(), 0, DAY_MS, cron);
    // 24 hours of minute shares at a learning rate of 0.1: within 10 % of the cron's 70 jobs/s.
    expect(forecastMinute(model, minuteOf(DAY_MS, 13, 0))).toBeGreaterThan(63);
    expect(forecastMinute(model, minuteOf(DAY_MS, 13, 2))).toBeLessThan(12);
  });

  it('scores its forecasts: small on a repeated pattern, large on a pattern that changed', () => {
    const daily = (atMs: number) => (atMs % DAY_MS < DAY_MS / 2 ? 20 : 4);
    const repeated = learn(emptySeasonalModel(), 0, 2 * DAY_MS, daily);
    expect(forecastError(repeated)).toBeLessThan(0.05);
    const flipped = learn(repeated, 2 * DAY_MS, 3 * DAY_MS, (atMs) => 24 - daily(atMs));
    expect(forecastError(flipped)).toBeGreaterThan(0.5);
  });

  it('skips a minute the operator barely saw rather than learn a rate from a few seconds', () => {
    const model = learnArrivals(learnArrivals(emptySeasonalModel(), 10_000, 100, 10), 70_000, 0, 10);
    expect(model.bucket).toBeUndefined();
  });

  it('persists to a small, rounded form and restores it; refuses what is not a model', () => {
    const model = learn(emptySeasonalModel(), 0, DAY_MS, () => 1 / 3);
    const persisted = persistSeasonalModel(model);
    expect(persisted?.day).toHaveLength(DAY_BUCKETS);
    expect(persisted?.day[100]).toBe(0.333);
    expect(JSON.stringify(persisted).length).toBeLessThan(4096);
    const restored = restoreSeasonalModel(persisted);
    expect(restored?.sinceMs).toBe(model.sinceMs);
    expect(forecastMinute(restored as SeasonalModel, minuteOf(DAY_MS, 8, 0))).toBeCloseTo(1 / 3, 2);
    expect(persistSeasonalModel(emptySeasonalModel())).toBeUndefined();
    expect(restoreSeasonalModel({ day: [1, 2], hour: [], error: [0, 0], sinceMs: 0 })).toBeUndefined();
  });
});
