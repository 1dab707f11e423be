import type { ArrivalPoll, ArrivalSource } from './arrival-sources.ts';

// `record`'s loop: poll an arrival source every interval for a duration and bucket what it
// learns into the `timestamp,count` CSV that `simulate --trace` reads (parseTraceCsv), every
// bucket written, empty ones as 0, so that the trace lasts as long as the recording.

export interface RecordOptions {
  source: ArrivalSource;
  durationMs: number;
  intervalMs: number;
  bucketSeconds: number;
  /** The clock (epoch ms) and the wait between polls, injectable for tests. */
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
}

export interface RecordedTrace {
  startMs: number;
  endMs: number;
  bucketSeconds: number;
  /** Arrivals per bucket, the first starting at startMs. */
  counts: number[];
  timed: number;
  counted: number;
  estimated: number;
  /** Log entries trimmed before a poll read them (see ArrivalPoll.trimmed). */
  trimmed: number;
  method: string;
}

/** Adds one poll to the buckets: timed arrivals at their time, the others at the interval's middle. */
export function addPoll(trace: RecordedTrace, poll: ArrivalPoll, fromMs: number, toMs: number): void {
  const bucketMs = trace.bucketSeconds * 1000;
  const add = (atMs: number, count: number) => {
    if (count === 0) return;
    const bucket = Math.min(trace.counts.length - 1, Math.max(0, Math.floor((atMs - trace.startMs) / bucketMs)));
    trace.counts[bucket] = (trace.counts[bucket] ?? 0) + count;
  };
  for (const atMs of poll.timedMs) add(atMs, 1);
  add((fromMs + toMs) / 2, poll.counted + poll.estimated);
  trace.timed += poll.timedMs.length;
  trace.counted += poll.counted;
  trace.estimated += poll.estimated;
  trace.trimmed += poll.trimmed;
}

export function emptyTrace(method: string, startMs: number, durationMs: number, bucketSeconds: number): RecordedTrace {
  const buckets = Math.max(1, Math.ceil(durationMs / (bucketSeconds * 1000)));
  return {
    startMs,
    endMs: startMs + durationMs,
    bucketSeconds,
    counts: new Array<number>(buckets).fill(0),
    timed: 0,
    counted: 0,
    estimated: 0,
    trimmed: 0,
    method,
  };
}

export async function recordTrace(options: RecordOptions): Promise<RecordedTrace> {
  const now = options.now ?? Date.now;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms)));
  await options.source.poll();
  const startMs = now();
  const trace = emptyTrace(options.source.method, startMs, options.durationMs, options.bucketSeconds);
  let previousMs = startMs;
  while (previousMs < trace.endMs) {
    await sleep(Math.min(options.intervalMs, Math.max(0, trace.endMs - previousMs)));
    const poll = await options.source.poll();
    const polledMs = now();
    addPoll(trace, poll, previousMs, polledMs);
    previousMs = polledMs;
  }
  return trace;
}

/** How the arrivals were known, in words: exact, counted or estimated, and how many of each. */
export function describeAccuracy(trace: RecordedTrace): string {
  const total = trace.timed + trace.counted + trace.estimated;
  const parts = [
    trace.timed > 0 ? `${trace.timed} with their enqueue time` : undefined,
    trace.counted > 0 ? `${trace.counted} counted exactly per poll` : undefined,
    trace.estimated > 0 ? `${trace.estimated} estimated` : undefined,
  ].filter((part) => part !== undefined);
  const trimmed =
    trace.trimmed > 0
      ? `; ${trace.trimmed} log entries were trimmed before a poll read them: poll more often (--interval) or let the queue keep more`
      : '';
  return `${total} arrivals${parts.length > 0 ? `: ${parts.join(', ')}` : ''} (${trace.method})${trimmed}`;
}

/** The CSV simulate --trace reads: comment lines, a header, a row per bucket in epoch seconds. */
export function recordedTraceCsv(trace: RecordedTrace, what: string): string {
  const lines = [
    `# recorded by workerpool-operator record: ${what}, ${new Date(trace.startMs).toISOString()} to ${new Date(trace.endMs).toISOString()}`,
    `# arrivals ${trace.estimated > 0 ? 'ESTIMATED' : 'exact'}: ${describeAccuracy(trace)}`,
    'timestamp,count',
  ];
  const startSeconds = trace.startMs / 1000;
  trace.counts.forEach((count, bucket) =>
    lines.push(`${Number((startSeconds + bucket * trace.bucketSeconds).toFixed(3))},${count}`),
  );
  return `${lines.join('\n')}\n`;
}

const DURATION_UNITS: Record<string, number> = { ms: 0.001, s: 1, m: 60, h: 3600, d: 86400 };

/** "90", "90s", "15m", "2h", "1d" -> seconds. */
export function parseDurationSeconds(text: string, field: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)?$/.exec(text.trim());
  const seconds = match === null ? NaN : Number(match[1]) * (DURATION_UNITS[match[2] ?? 's'] as number);
  if (!(seconds > 0)) throw new RangeError(`${field}: expected a duration such as 90s, 15m or 2h, got "${text}"`);
  return seconds;
}
