import { exponential, poisson, seededRandom, type Random } from './prng.ts';

// Arrival traces: how many jobs are enqueued in each bucket of time. A trace read from CSV holds
// exact counts; a generated trace holds expected counts that become Poisson draws, so that even
// a flat load has the randomness real queues have.

/** A trace file that cannot be read as `timestamp,count` lines. */
export class TraceFormatError extends Error {
  override name = 'TraceFormatError';
}

export interface ArrivalTrace {
  name: string;
  bucketSeconds: number;
  /** Jobs (or expected jobs) enqueued in each bucket. */
  counts: number[];
  /** True when counts are expectations to draw Poisson counts from; false for recorded counts. */
  poisson: boolean;
  /**
   * For each bucket, how long before it its jobs were scheduled (a Sidekiq `perform_in`, a
   * BullMQ delay): readers see them that long ahead. Absent or 0: enqueued when they arrive.
   */
  scheduledAheadSeconds?: number[];
  /**
   * Epoch seconds of the trace's first bucket, when its timestamps were epoch seconds or dates
   * (a `record` trace): the simulated clock starts there, so that a learned daily pattern
   * (scaling.predictive) sees the trace's own time of day. Absent: second 0 is midnight UTC.
   */
  startEpochSeconds?: number;
}

/** Epoch milliseconds of the trace's second 0, for the simulated clock. */
export function traceEpochMs(trace: ArrivalTrace): number {
  return (trace.startEpochSeconds ?? 0) * 1000;
}

export function traceDurationSeconds(trace: ArrivalTrace): number {
  return trace.counts.length * trace.bucketSeconds;
}

/** Expected jobs per second at each second, from a rate function. */
function fromRate(name: string, durationSeconds: number, rate: (second: number) => number): ArrivalTrace {
  const counts: number[] = [];
  for (let second = 0; second < durationSeconds; second += 1) counts.push(Math.max(0, rate(second)));
  return { name, bucketSeconds: 1, counts, poisson: true };
}

export interface StepShape {
  durationSeconds: number;
  baseRate: number;
  stepRate: number;
  stepAtSeconds: number;
}

/** A lasting change of load: base rate, then the step rate from stepAtSeconds on. */
export function stepTrace(name: string, shape: StepShape): ArrivalTrace {
  return fromRate(name, shape.durationSeconds, (second) =>
    second >= shape.stepAtSeconds ? shape.stepRate : shape.baseRate,
  );
}

export interface SpikeShape {
  durationSeconds: number;
  baseRate: number;
  spikeRate: number;
  spikeAtSeconds: number;
  spikeSeconds: number;
}

/** A short burst over a base load. */
export function spikeTrace(name: string, shape: SpikeShape): ArrivalTrace {
  const end = shape.spikeAtSeconds + shape.spikeSeconds;
  return fromRate(name, shape.durationSeconds, (second) =>
    second >= shape.spikeAtSeconds && second < end ? shape.spikeRate : shape.baseRate,
  );
}

export interface RampShape {
  durationSeconds: number;
  fromRate: number;
  toRate: number;
  /** The ramp runs from rampStartSeconds to rampEndSeconds, flat before and after. */
  rampStartSeconds: number;
  rampEndSeconds: number;
}

export function rampTrace(name: string, shape: RampShape): ArrivalTrace {
  const span = Math.max(1, shape.rampEndSeconds - shape.rampStartSeconds);
  return fromRate(name, shape.durationSeconds, (second) => {
    const progress = Math.min(1, Math.max(0, (second - shape.rampStartSeconds) / span));
    return shape.fromRate + (shape.toRate - shape.fromRate) * progress;
  });
}

export interface DiurnalShape {
  durationSeconds: number;
  minRate: number;
  maxRate: number;
  periodSeconds: number;
}

/** A day compressed into periodSeconds: a smooth cosine from the night low to the day peak. */
export function diurnalTrace(name: string, shape: DiurnalShape): ArrivalTrace {
  const amplitude = (shape.maxRate - shape.minRate) / 2;
  return fromRate(
    name,
    shape.durationSeconds,
    (second) => shape.minRate + amplitude * (1 - Math.cos((2 * Math.PI * second) / shape.periodSeconds)),
  );
}

export interface BurstyShape {
  durationSeconds: number;
  onRate: number;
  offRate: number;
  onSeconds: number;
  offSeconds: number;
}

/** Batch producers: on periods of heavy load separated by quiet ones. */
export function burstyTrace(name: string, shape: BurstyShape): ArrivalTrace {
  const cycle = shape.onSeconds + shape.offSeconds;
  return fromRate(name, shape.durationSeconds, (second) =>
    second % cycle < shape.onSeconds ? shape.onRate : shape.offRate,
  );
}

export interface MarkovModulatedShape {
  durationSeconds: number;
  /** Jobs per second in the quiet state and in the burst state. */
  lowRate: number;
  highRate: number;
  /** Mean time spent in each state; the time in a state is exponential (a Markov chain). */
  meanLowSeconds: number;
  meanHighSeconds: number;
  /** Seeds the state switches, apart from the Poisson draws of the jobs themselves. */
  seed: number;
}

/**
 * A Markov-modulated Poisson process with two states: a quiet rate and bursts that come and go
 * at random, each state lasting an exponential time. Unlike burstyTrace, neither the length of a
 * burst nor the gap before the next can be learned from the last one.
 */
export function markovModulatedTrace(name: string, shape: MarkovModulatedShape): ArrivalTrace {
  const random = seededRandom(shape.seed);
  const counts: number[] = [];
  let high = false;
  let switchAt = exponential(random, shape.meanLowSeconds);
  for (let second = 0; second < shape.durationSeconds; second += 1) {
    // The part of this second spent in each state, so that a switch mid-second counts both.
    let expected = 0;
    let from = second;
    while (switchAt < second + 1) {
      expected += (switchAt - from) * (high ? shape.highRate : shape.lowRate);
      from = switchAt;
      high = !high;
      switchAt += exponential(random, high ? shape.meanHighSeconds : shape.meanLowSeconds);
    }
    expected += (second + 1 - from) * (high ? shape.highRate : shape.lowRate);
    counts.push(expected);
  }
  return { name, bucketSeconds: 1, counts, poisson: true };
}

/**
 * Parses `timestamp,count` lines. Timestamps are seconds (relative or epoch) or ISO dates, in
 * increasing order; each count is the jobs enqueued from its timestamp to the next. The bucket
 * is the smallest gap between timestamps, and gaps without a line count as zero jobs.
 */
export function parseTraceCsv(name: string, text: string): ArrivalTrace {
  const rows: { at: number; count: number }[] = [];
  const lines = text.split(/\r?\n/);
  lines.forEach((raw, index) => {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) return;
    const [timestampField, countField, ...rest] = line.split(',').map((field) => field.trim());
    if (timestampField === undefined || countField === undefined || rest.length > 0)
      throw new TraceFormatError(`trace ${name} line ${index + 1}: expected "timestamp,count", got "${line}"`);
    const count = Number(countField);
    const at = parseTimestamp(timestampField);
    if (at === undefined || !Number.isFinite(count) || count < 0) {
      if (rows.length === 0 && index === firstContentLine(lines)) return; // a header line
      throw new TraceFormatError(
        `trace ${name} line ${index + 1}: expected a timestamp and a non-negative count, got "${line}"`,
      );
    }
    const previous = rows[rows.length - 1];
    if (previous !== undefined && at <= previous.at)
      throw new TraceFormatError(`trace ${name} line ${index + 1}: timestamps must increase`);
    rows.push({ at, count });
  });
  if (rows.length === 0) throw new TraceFormatError(`trace ${name}: no rows`);
  return bucketRows(name, rows);
}

function firstContentLine(lines: string[]): number {
  return lines.findIndex((line) => line.trim() !== '' && !line.trim().startsWith('#'));
}

function parseTimestamp(field: string): number | undefined {
  if (field === '') return undefined;
  const asNumber = Number(field);
  if (Number.isFinite(asNumber)) return asNumber;
  const asDate = Date.parse(field);
  return Number.isNaN(asDate) ? undefined : asDate / 1000;
}

function bucketRows(name: string, rows: { at: number; count: number }[]): ArrivalTrace {
  const first = (rows[0] as { at: number }).at;
  let bucket = Infinity;
  for (let index = 1; index < rows.length; index += 1)
    bucket = Math.min(bucket, (rows[index] as { at: number }).at - (rows[index - 1] as { at: number }).at);
  const bucketSeconds = Number.isFinite(bucket) ? bucket : 1;
  const last = (rows[rows.length - 1] as { at: number }).at;
  const counts = new Array<number>(Math.round((last - first) / bucketSeconds) + 1).fill(0);
  for (const row of rows) {
    const slot = Math.round((row.at - first) / bucketSeconds);
    counts[slot] = (counts[slot] ?? 0) + row.count;
  }
  return { name, bucketSeconds, counts, poisson: false, startEpochSeconds: first };
}

/** Arrival times in seconds, sorted: counts spread at random within their bucket. */
export function arrivalTimes(trace: ArrivalTrace, random: Random): Float64Array {
  const times: number[] = [];
  trace.counts.forEach((expected, bucket) => {
    const count = trace.poisson ? poisson(random, expected) : Math.round(expected);
    const start = bucket * trace.bucketSeconds;
    const offsets: number[] = [];
    for (let index = 0; index < count; index += 1) offsets.push(random.next() * trace.bucketSeconds);
    offsets.sort((a, b) => a - b);
    for (const offset of offsets) times.push(start + offset);
  });
  return Float64Array.from(times);
}

/** The trace as CSV, the format parseTraceCsv reads. */
export function traceToCsv(trace: ArrivalTrace): string {
  const lines = ['timestamp,count'];
  trace.counts.forEach((count, bucket) => lines.push(`${bucket * trace.bucketSeconds},${Math.round(count)}`));
  return `${lines.join('\n')}\n`;
}
