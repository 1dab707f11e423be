// The predictive stage's memory: what a pool's arrival rate has been at each time of the day and
// each minute of the hour, learned from the arrivals the engine measures every poll. Pure and
// plain data (numbers and arrays), so that it rides in ScalerState and persists in status.
//
// Two profiles, sized for a thousand pools (348 numbers each):
// - by 5-minute bucket of the UTC day (288): the daily pattern. A new day weighs
//   DAY_LEARNING_RATE, so a changed pattern is learned within a few days;
// - by minute of the hour (60): each minute's share of its 5-minute bucket, so a top-of-the-hour
//   cron that a 5-minute mean would smear is forecast at its minute. Learned every hour.
// The forecast for a minute is its day bucket's rate times its minute's share.

export const DAY_BUCKET_SECONDS = 300;
export const DAY_BUCKETS = 86_400 / DAY_BUCKET_SECONDS;
export const MINUTES_PER_BUCKET = DAY_BUCKET_SECONDS / 60;
/** Weight of the newest day in a day bucket: about three days of memory. */
export const DAY_LEARNING_RATE = 0.3;
/** Weight of the newest hour in a minute's share: about ten hours of memory. */
export const HOUR_LEARNING_RATE = 0.1;
/** The forecast error is a decayed mean over the recent past with this half-life. */
export const ERROR_HALF_LIFE_SECONDS = 3 * 3600;
/** A minute observed for less than this is too short to learn from (the operator was away). */
export const MIN_OBSERVED_SECONDS_PER_MINUTE = 30;

/** A day bucket not seen yet. */
const UNSEEN = -1;

export interface MinuteCount {
  /** Epoch minute (ms / 60,000). */
  index: number;
  arrivals: number;
  seconds: number;
  /** What the model forecast for this minute when it began, if it could. */
  forecast?: number;
}

export interface SeasonalModel {
  /** Arrivals per second by 5-minute bucket of the UTC day; UNSEEN (-1) where none was learned. */
  day: number[];
  /** Each minute of the hour's rate over its 5-minute bucket's mean (1 = even). */
  hour: number[];
  /** The minute being counted. */
  minute: MinuteCount | undefined;
  /** The rates of the current 5-minute bucket's finished minutes, by minute within it (-1: not observed). */
  bucket: { index: number; rates: number[] } | undefined;
  /** Decayed sums of |forecast - actual| and of actual, per minute: their ratio is the error. */
  error: { absolute: number; actual: number };
  /** When the model first learned (epoch ms): it acts only after a day of learning. */
  sinceMs: number | undefined;
}

export function emptySeasonalModel(): SeasonalModel {
  return {
    day: new Array<number>(DAY_BUCKETS).fill(UNSEEN),
    hour: new Array<number>(60).fill(1),
    minute: undefined,
    bucket: undefined,
    error: { absolute: 0, actual: 0 },
    sinceMs: undefined,
  };
}

function dayBucketOf(epochMinute: number): number {
  return Math.floor((epochMinute % 1440) / MINUTES_PER_BUCKET);
}

/** Arrivals per second the model expects in the epoch minute, or undefined if its bucket was never seen. */
export function forecastMinute(model: SeasonalModel, epochMinute: number): number | undefined {
  const dayRate = model.day[dayBucketOf(epochMinute)] ?? UNSEEN;
  if (dayRate < 0) return undefined;
  return dayRate * (model.hour[epochMinute % 60] ?? 1);
}

/**
 * The highest rate the model expects in any minute that overlaps [fromMs, toMs], and how many
 * seconds from `fromMs` that minute starts (0 for the current one).
 */
export function forecastPeak(
  model: SeasonalModel,
  fromMs: number,
  toMs: number,
): { ratePerSecond: number; inSeconds: number } | undefined {
  let peak: { ratePerSecond: number; inSeconds: number } | undefined;
  for (let minute = Math.floor(fromMs / 60_000); minute * 60_000 <= toMs; minute += 1) {
    const rate = forecastMinute(model, minute);
    if (rate === undefined) continue;
    if (peak === undefined || rate > peak.ratePerSecond)
      peak = { ratePerSecond: rate, inSeconds: Math.max(0, (minute * 60_000 - fromMs) / 1000) };
  }
  return peak;
}

/** The recent forecast error: mean |forecast - actual| over mean actual, or undefined before any. */
export function forecastError(model: SeasonalModel): number | undefined {
  if (model.error.actual <= 0) return model.error.absolute > 0 ? Infinity : undefined;
  return model.error.absolute / model.error.actual;
}

/**
 * Folds `arrivals` counted over the `seconds` before `nowMs` into the model. An interval that
 * crosses into a new minute is split between the two in proportion to its time in each; a
 * finished minute is scored against its forecast and kept for its bucket, and a finished bucket
 * is learned into both profiles.
 */
export function learnArrivals(model: SeasonalModel, nowMs: number, arrivals: number, seconds: number): SeasonalModel {
  const minuteStartMs = Math.floor(nowMs / 60_000) * 60_000;
  const fromMs = nowMs - seconds * 1000;
  if (fromMs >= minuteStartMs || seconds <= 0 || model.minute?.index !== minuteStartMs / 60_000 - 1)
    return countArrivals(model, nowMs, arrivals, seconds);
  const before = Math.min(seconds, (minuteStartMs - fromMs) / 1000);
  const share = before / seconds;
  const earlier = countArrivals(model, minuteStartMs - 1, arrivals * share, before);
  return countArrivals(earlier, nowMs, arrivals * (1 - share), seconds - before);
}

function countArrivals(model: SeasonalModel, nowMs: number, arrivals: number, seconds: number): SeasonalModel {
  const epochMinute = Math.floor(nowMs / 60_000);
  let next = model;
  if (next.minute !== undefined && next.minute.index !== epochMinute) next = closeMinute(next, next.minute);
  if (next.bucket !== undefined && next.bucket.index !== Math.floor(epochMinute / MINUTES_PER_BUCKET))
    next = closeBucket(next, next.bucket);
  const minute =
    next.minute?.index === epochMinute
      ? next.minute
      : withForecast({ index: epochMinute, arrivals: 0, seconds: 0 }, forecastMinute(next, epochMinute));
  return {
    ...next,
    minute: { ...minute, arrivals: minute.arrivals + arrivals, seconds: minute.seconds + seconds },
    sinceMs: next.sinceMs ?? nowMs,
  };
}

function withForecast(minute: MinuteCount, forecast: number | undefined): MinuteCount {
  return forecast === undefined ? minute : { ...minute, forecast };
}

function closeMinute(model: SeasonalModel, minute: MinuteCount): SeasonalModel {
  const closed = { ...model, minute: undefined };
  if (minute.seconds < MIN_OBSERVED_SECONDS_PER_MINUTE) return closed;
  const rate = minute.arrivals / minute.seconds;
  const bucketIndex = Math.floor(minute.index / MINUTES_PER_BUCKET);
  const bucket =
    model.bucket?.index === bucketIndex
      ? model.bucket
      : { index: bucketIndex, rates: new Array<number>(MINUTES_PER_BUCKET).fill(UNSEEN) };
  const rates = bucket.rates.slice();
  rates[minute.index % MINUTES_PER_BUCKET] = rate;
  const keep = Math.pow(0.5, 60 / ERROR_HALF_LIFE_SECONDS);
  const error =
    minute.forecast === undefined
      ? model.error
      : {
          absolute: model.error.absolute * keep + Math.abs(minute.forecast - rate),
          actual: model.error.actual * keep + rate,
        };
  return { ...closed, bucket: { index: bucketIndex, rates }, error };
}

/** A finished 5-minute bucket: its mean into the day profile, each minute's share into the hour profile. */
function closeBucket(model: SeasonalModel, bucket: { index: number; rates: number[] }): SeasonalModel {
  const seen = bucket.rates.filter((rate) => rate >= 0);
  if (seen.length === 0) return { ...model, bucket: undefined };
  const mean = seen.reduce((sum, rate) => sum + rate, 0) / seen.length;
  const dayIndex = bucket.index % DAY_BUCKETS;
  const day = model.day.slice();
  const learned = day[dayIndex] ?? UNSEEN;
  day[dayIndex] = learned < 0 ? mean : learned + DAY_LEARNING_RATE * (mean - learned);
  const hour = model.hour.slice();
  if (mean > 0) {
    const firstMinute = (bucket.index * MINUTES_PER_BUCKET) % 60;
    bucket.rates.forEach((rate, offset) => {
      if (rate < 0) return;
      const share = hour[firstMinute + offset] ?? 1;
      hour[firstMinute + offset] = share + HOUR_LEARNING_RATE * (rate / mean - share);
    });
  }
  return { ...model, day, hour, bucket: undefined };
}

/** What status.forecast keeps of the model: the two profiles and when learning began, rounded. */
export interface PersistedSeasonalModel {
  /** Arrivals per second by 5-minute bucket of the UTC day; -1 where none was learned. */
  day: number[];
  /** Each minute of the hour's share of its bucket. */
  hour: number[];
  /** The recent forecast error's decayed sums: [absolute, actual]. */
  error: [number, number];
  /** Epoch ms when learning began. */
  sinceMs: number;
}

/** Three significant digits: a forecast is not more precise, and status stays small. */
function round3(value: number): number {
  return value < 0 ? UNSEEN : Number(value.toPrecision(3));
}

export function persistSeasonalModel(model: SeasonalModel): PersistedSeasonalModel | undefined {
  if (model.sinceMs === undefined) return undefined;
  return {
    day: model.day.map(round3),
    hour: model.hour.map(round3),
    error: [round3(model.error.absolute), round3(model.error.actual)],
    sinceMs: model.sinceMs,
  };
}

/** The model from status, or undefined when what status holds is not one (wrong sizes, bad numbers). */
export function restoreSeasonalModel(persisted: PersistedSeasonalModel | undefined): SeasonalModel | undefined {
  if (persisted === undefined) return undefined;
  const numbers = (values: unknown, length: number) =>
    Array.isArray(values) && values.length === length && values.every((value) => Number.isFinite(value));
  if (!numbers(persisted.day, DAY_BUCKETS) || !numbers(persisted.hour, 60) || !numbers(persisted.error, 2))
    return undefined;
  if (!Number.isFinite(persisted.sinceMs)) return undefined;
  return {
    ...emptySeasonalModel(),
    day: persisted.day.slice(),
    hour: persisted.hour.slice(),
    error: { absolute: persisted.error[0], actual: persisted.error[1] },
    sinceMs: persisted.sinceMs,
  };
}
