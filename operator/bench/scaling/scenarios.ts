import { readFileSync } from 'node:fs';
import {
  burstyTrace,
  diurnalTrace,
  markovModulatedTrace,
  parseTraceCsv,
  rampTrace,
  spikeTrace,
  stepTrace,
  type ArrivalTrace,
} from '../../src/simulator/arrival-trace.ts';
import type { ServiceTimeSpec } from '../../src/simulator/service-time.ts';

// The benchmark's traces. Each is a pool (target, concurrency, start-up delay, bounds) and a load
// (arrivals and service times). They are chosen to hit different weaknesses: a lasting step, a
// short spike, a slow ramp, a heavy-tailed service time, a start-up longer than the target,
// on/off batches that let an idle pool reach zero, one-off bursts onto an idle pool that has never
// measured a service time, random (Markov-modulated) bursts of short jobs with a target at most
// twice the pod start-up, bursts scheduled ahead (known before they come due), and a recorded
// trace replayed from CSV.

export interface Scenario {
  name: string;
  description: string;
  trace: ArrivalTrace;
  service: ServiceTimeSpec;
  concurrency: number;
  targetSeconds: number;
  podStartupSeconds: number;
  minReplicas: number;
  maxReplicas: number;
  /** Replicas running (and ready) when the run starts, the same for every policy. */
  initialReplicas: number;
  seed: number;
}

const HOUR = 3600;

export function scenarios(): Scenario[] {
  return [
    {
      name: 'step',
      description: 'load steps from 20 to 80 jobs/s and stays',
      trace: stepTrace('step', { durationSeconds: HOUR, baseRate: 20, stepRate: 80, stepAtSeconds: 1200 }),
      service: { kind: 'exponential', meanSeconds: 2 },
      concurrency: 10,
      targetSeconds: 30,
      podStartupSeconds: 10,
      minReplicas: 1,
      maxReplicas: 200,
      initialReplicas: 5,
      seed: 11,
    },
    {
      name: 'spike',
      description: 'a 60 s burst of 250 jobs/s over a base of 15 jobs/s',
      trace: spikeTrace('spike', {
        durationSeconds: HOUR,
        baseRate: 15,
        spikeRate: 250,
        spikeAtSeconds: 1500,
        spikeSeconds: 60,
      }),
      service: { kind: 'fixed', seconds: 1 },
      concurrency: 10,
      targetSeconds: 30,
      podStartupSeconds: 10,
      minReplicas: 1,
      maxReplicas: 200,
      initialReplicas: 2,
      seed: 12,
    },
    {
      name: 'ramp',
      description: 'load ramps from 5 to 100 jobs/s over 30 minutes, then back down over 10',
      trace: rampDownAfter(
        rampTrace('ramp', {
          durationSeconds: HOUR,
          fromRate: 5,
          toRate: 100,
          rampStartSeconds: 300,
          rampEndSeconds: 2100,
        }),
        2700,
        3300,
        5,
      ),
      service: { kind: 'exponential', meanSeconds: 2 },
      concurrency: 10,
      targetSeconds: 30,
      podStartupSeconds: 10,
      minReplicas: 1,
      maxReplicas: 200,
      initialReplicas: 1,
      seed: 13,
    },
    {
      name: 'heavy-tail',
      description: 'diurnal load with log-normal service times (mean 3 s, sigma 1.6: p99 about 70 s)',
      trace: diurnalTrace('heavy-tail', { durationSeconds: HOUR, minRate: 5, maxRate: 40, periodSeconds: HOUR }),
      service: { kind: 'lognormal', meanSeconds: 3, sigma: 1.6 },
      concurrency: 10,
      targetSeconds: 30,
      podStartupSeconds: 10,
      minReplicas: 1,
      maxReplicas: 200,
      initialReplicas: 2,
      seed: 14,
    },
    {
      name: 'slow-start',
      description: 'diurnal load; pods take 60 s to start, longer than the 20 s target',
      trace: diurnalTrace('slow-start', { durationSeconds: HOUR, minRate: 10, maxRate: 80, periodSeconds: HOUR }),
      service: { kind: 'exponential', meanSeconds: 1 },
      concurrency: 8,
      targetSeconds: 20,
      podStartupSeconds: 60,
      minReplicas: 1,
      maxReplicas: 200,
      initialReplicas: 2,
      seed: 15,
    },
    {
      name: 'bursty',
      description: 'batches: 2 minutes at 60 jobs/s, then 8 minutes with nothing; the pool may go to zero',
      trace: burstyTrace('bursty', { durationSeconds: HOUR, onRate: 60, offRate: 0, onSeconds: 120, offSeconds: 480 }),
      service: { kind: 'exponential', meanSeconds: 2 },
      concurrency: 10,
      targetSeconds: 30,
      podStartupSeconds: 10,
      minReplicas: 0,
      maxReplicas: 200,
      initialReplicas: 0,
      seed: 16,
    },
    {
      name: 'cold-bursts',
      description: 'one-off bursts of 500 jobs onto an idle pool at zero (the first before any service time is known)',
      trace: oneOffBursts('cold-bursts', HOUR, [300, 1500, 2700], 500),
      service: { kind: 'exponential', meanSeconds: 2 },
      concurrency: 10,
      targetSeconds: 30,
      podStartupSeconds: 10,
      minReplicas: 0,
      maxReplicas: 20,
      initialReplicas: 0,
      seed: 18,
    },
    {
      name: 'mmpp-tight',
      description:
        'random bursts (Markov-modulated: 5 -> 80 jobs/s for 30 s on average, every 2.5 min) of 0.5 s jobs; target 15 s, pods start in 10 s',
      trace: markovModulatedTrace('mmpp-tight', {
        durationSeconds: HOUR,
        lowRate: 5,
        highRate: 80,
        meanLowSeconds: 120,
        meanHighSeconds: 30,
        seed: 21,
      }),
      service: { kind: 'exponential', meanSeconds: 0.5 },
      concurrency: 10,
      targetSeconds: 15,
      podStartupSeconds: 10,
      minReplicas: 1,
      maxReplicas: 100,
      initialReplicas: 1,
      seed: 19,
    },
    {
      name: 'mmpp-short',
      description:
        'random bursts (Markov-modulated: 3 -> 120 jobs/s for 20 s on average, every 2 min) of 0.25 s jobs; target 16 s, pods start in 8 s',
      trace: markovModulatedTrace('mmpp-short', {
        durationSeconds: HOUR,
        lowRate: 3,
        highRate: 120,
        meanLowSeconds: 100,
        meanHighSeconds: 20,
        seed: 22,
      }),
      service: { kind: 'lognormal', meanSeconds: 0.25, sigma: 1 },
      concurrency: 5,
      targetSeconds: 16,
      podStartupSeconds: 8,
      minReplicas: 1,
      maxReplicas: 100,
      initialReplicas: 1,
      seed: 20,
    },
    {
      name: 'mmpp-zero',
      description:
        'random bursts (Markov-modulated: 0 -> 40 jobs/s for 45 s on average, every 4 min) of 1 s jobs onto a pool that may go to zero; target 20 s, pods start in 10 s',
      trace: markovModulatedTrace('mmpp-zero', {
        durationSeconds: HOUR,
        lowRate: 0,
        highRate: 40,
        meanLowSeconds: 200,
        meanHighSeconds: 45,
        seed: 23,
      }),
      service: { kind: 'exponential', meanSeconds: 1 },
      concurrency: 10,
      targetSeconds: 20,
      podStartupSeconds: 10,
      minReplicas: 0,
      maxReplicas: 100,
      initialReplicas: 0,
      seed: 24,
    },
    {
      name: 'scheduled',
      description:
        'bursts of 3,000 jobs scheduled 10 minutes ahead (a campaign send) onto a small pool over 0.5 jobs/s; pods start in 25 s',
      trace: scheduledBursts('scheduled', {
        durationSeconds: HOUR,
        baseRate: 0.5,
        atSeconds: [900, 2100, 3300],
        jobs: 3000,
        aheadSeconds: 600,
      }),
      service: { kind: 'exponential', meanSeconds: 2 },
      concurrency: 10,
      targetSeconds: 30,
      podStartupSeconds: 25,
      minReplicas: 0,
      maxReplicas: 100,
      initialReplicas: 1,
      seed: 25,
    },
    {
      name: 'recorded',
      description: 'an hour replayed from operator/bench/traces/recorded-hour.csv (10 s buckets, two batch imports)',
      trace: parseTraceCsv('recorded', readFileSync(new URL('../traces/recorded-hour.csv', import.meta.url), 'utf8')),
      service: { kind: 'lognormal', meanSeconds: 1.5, sigma: 1 },
      concurrency: 10,
      targetSeconds: 30,
      podStartupSeconds: 15,
      minReplicas: 1,
      maxReplicas: 200,
      initialReplicas: 2,
      seed: 17,
    },
  ];
}

interface ScheduledBurstsShape {
  durationSeconds: number;
  baseRate: number;
  atSeconds: number[];
  jobs: number;
  aheadSeconds: number;
}

/** A base load, and `jobs` coming due at once at each of `atSeconds`, scheduled `aheadSeconds` before. */
function scheduledBursts(name: string, shape: ScheduledBurstsShape): ArrivalTrace {
  const burst = (second: number) => shape.atSeconds.includes(second);
  return {
    name,
    bucketSeconds: 1,
    counts: Array.from(
      { length: shape.durationSeconds },
      (_, second) => shape.baseRate + (burst(second) ? shape.jobs : 0),
    ),
    poisson: true,
    scheduledAheadSeconds: Array.from({ length: shape.durationSeconds }, (_, second) =>
      burst(second) ? shape.aheadSeconds : 0,
    ),
  };
}

/** `jobs` enqueued at once at each of `atSeconds`, nothing in between. */
function oneOffBursts(name: string, durationSeconds: number, atSeconds: number[], jobs: number): ArrivalTrace {
  const counts = Array.from({ length: durationSeconds }, (_, second) => (atSeconds.includes(second) ? jobs : 0));
  return { name, bucketSeconds: 1, counts, poisson: false };
}

/** A ramp that also comes back down: from downStart to downEnd it falls back to `to`. */
function rampDownAfter(trace: ArrivalTrace, downStart: number, downEnd: number, to: number): ArrivalTrace {
  const counts = trace.counts.map((rate, second) => {
    if (second < downStart) return rate;
    const progress = Math.min(1, (second - downStart) / (downEnd - downStart));
    const peak = trace.counts[downStart - 1] ?? rate;
    return peak + (to - peak) * progress;
  });
  return { ...trace, counts };
}
