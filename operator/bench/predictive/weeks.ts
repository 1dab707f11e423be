import { markovModulatedTrace, type ArrivalTrace } from '../../src/simulator/arrival-trace.ts';
import { seededRandom } from '../../src/simulator/prng.ts';
import type { Scenario } from '../scaling/scenarios.ts';

// The predictive benchmark's two weeks, on one pool with a target close to the pod start-up
// (15 s, 10 s), where reacting to a burst costs the most: one with a daily pattern and noise,
// which the learned model should forecast, and one without any pattern, where it must cost
// nothing. Second 0 is midnight UTC.

const DAY = 86_400;
const WEEK = 7 * DAY;

/** The pool both weeks run on: 1 s jobs, 10 per replica, pods Ready 10 s after a scale-up. */
const POOL = {
  service: { kind: 'exponential', meanSeconds: 1 },
  concurrency: 10,
  targetSeconds: 15,
  podStartupSeconds: 10,
  minReplicas: 1,
  maxReplicas: 100,
  initialReplicas: 2,
} as const;

/**
 * A working day, every day, with noise: a daytime hump from 2 to 20 jobs/s (07:00 to 21:00),
 * a 10-minute campaign send at 09:00 (+100 jobs/s), and a one-minute cron at the top of every
 * hour from 08:00 to 19:00 (+60 jobs/s). Each day's hump and campaign are scaled by a random
 * ±15 % and ±20 %, the campaign starts up to 30 s late, and every second is a Poisson draw.
 */
export function seasonalWeek(seed: number): ArrivalTrace {
  const random = seededRandom(seed);
  const days = Array.from({ length: 7 }, () => ({
    hump: 1 + 0.3 * (random.next() - 0.5),
    campaign: 1 + 0.4 * (random.next() - 0.5),
    campaignLateSeconds: Math.floor(random.next() * 30),
  }));
  const counts = new Array<number>(WEEK);
  for (let second = 0; second < WEEK; second += 1) {
    const day = days[Math.floor(second / DAY)] ?? { hump: 1, campaign: 1, campaignLateSeconds: 0 };
    const timeOfDay = second % DAY;
    const hour = timeOfDay / 3600;
    let rate = 2 + 18 * Math.max(0, Math.sin((Math.PI * (hour - 7)) / 14)) * day.hump;
    const campaignStart = 9 * 3600 + day.campaignLateSeconds;
    if (timeOfDay >= campaignStart && timeOfDay < campaignStart + 600) rate += 100 * day.campaign;
    if (hour >= 8 && hour < 20 && timeOfDay % 3600 < 60) rate += 60;
    counts[second] = rate;
  }
  return { name: 'seasonal-week', bucketSeconds: 1, counts, poisson: true };
}

/** Random bursts with no pattern at all (Markov-modulated: 4 -> 60 jobs/s for 30 s on average, every 2.5 min). */
export function randomWeek(seed: number): ArrivalTrace {
  return markovModulatedTrace('random-week', {
    durationSeconds: WEEK,
    lowRate: 4,
    highRate: 60,
    meanLowSeconds: 150,
    meanHighSeconds: 30,
    seed,
  });
}

export function predictiveScenarios(): Scenario[] {
  return [
    {
      name: 'seasonal-week',
      description:
        'a week of working days: a 2 -> 20 jobs/s daytime hump, a 10-minute campaign at 09:00 (+100 jobs/s), an hourly one-minute cron (+60 jobs/s), day-to-day noise',
      trace: seasonalWeek(31),
      ...POOL,
      seed: 32,
    },
    {
      name: 'seasonal-week-slow-start',
      description:
        'the seasonal week on pods that take 40 s to start, longer than the 20 s target: no reactive rule has pods Ready for a sharp rise',
      trace: seasonalWeek(31),
      ...POOL,
      targetSeconds: 20,
      podStartupSeconds: 40,
      seed: 32,
    },
    {
      name: 'random-week',
      description: 'a week of random bursts (Markov-modulated: 4 -> 60 jobs/s, 30 s on average, every 2.5 min)',
      trace: randomWeek(33),
      ...POOL,
      seed: 34,
    },
  ];
}
