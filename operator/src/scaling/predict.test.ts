import { describe, expect, it } from 'vitest';
import type { PredictiveMode } from '../api/workerpool-schema.ts';
import { decideScale } from './decide-scale.ts';
import { FORECAST_ERROR_BOUND } from './predict.ts';
import { reading, scalingSpec } from './test-helpers.ts';
import { initialScalerState, SCALE_REASONS, type Decision, type ScaleInput, type ScalerState } from './types.ts';

// The predict stage through decideScale: a pool of 1 s jobs, 10 per replica (10 jobs/s per
// replica), read every 10 s, whose load is 5 jobs/s all day and 100 jobs/s from 09:00 to 09:10
// (UTC). Replicas become ready the moment they are asked for, so the test follows the engine,
// not a simulation: every reading counts the jobs that arrived (completions + busy).
const POLL_MS = 10_000;
const DAY_MS = 86_400_000;
const at = (day: number, hour: number, minute: number, second = 0) =>
  day * DAY_MS + hour * 3_600_000 + minute * 60_000 + second * 1000;

const campaign = (atMs: number) => {
  const ofDay = atMs % DAY_MS;
  return ofDay >= at(0, 9, 0) && ofDay < at(0, 9, 10) ? 100 : 5;
};

interface Run {
  decisions: Map<number, Decision>;
  inputs: Map<number, ScaleInput>;
  state: ScalerState;
}

/** Runs the engine every poll from `fromMs` to `toMs` over `load`, recording each decision. */
function run(mode: PredictiveMode, load: (atMs: number) => number, fromMs: number, toMs: number): Run {
  const scaling = scalingSpec({
    maxReplicas: 50,
    targetLatencySeconds: 15,
    podStartupSeconds: 10,
    pollIntervalSeconds: POLL_MS / 1000,
    predictive: mode,
  });
  let state = initialScalerState();
  let replicas = 1;
  let completed = 0;
  const decisions = new Map<number, Decision>();
  const inputs = new Map<number, ScaleInput>();
  for (let atMs = fromMs; atMs <= toMs; atMs += POLL_MS) {
    const rate = load(atMs);
    // The jobs that arrived since the last poll came at the rate of that interval.
    completed += load(atMs - POLL_MS) * (POLL_MS / 1000);
    const input: ScaleInput = {
      nowMs: atMs,
      scaling,
      format: 'native',
      currentReplicas: replicas,
      readyReplicas: replicas,
      reading: reading({ observedAtMs: atMs, depth: 0, oldestJobAgeSeconds: 0, busy: rate, completedTotal: completed }),
      state,
    };
    const decision = decideScale(input);
    inputs.set(atMs, input);
    decisions.set(atMs, decision);
    state = decision.state;
    replicas = decision.desiredReplicas;
  }
  return { decisions, inputs, state };
}

const decisionAt = (run: Run, atMs: number) => run.decisions.get(atMs) as Decision;

describe('predict stage (scaling.predictive)', () => {
  const day2 = at(1, 9, 1);
  const off = run('disabled', campaign, 0, day2);
  const shadow = run('shadow', campaign, 0, day2);
  const on = run('enabled', campaign, 0, day2);

  it('off learns nothing and keeps no model in the state', () => {
    expect(off.state.seasonal).toBeUndefined();
    expect(decisionAt(off, at(1, 8, 59, 50)).signals?.forecastArrivalRatePerSecond).toBeUndefined();
  });

  it('shadow decides exactly as off, and reports its forecast and error', () => {
    for (const [atMs, decision] of off.decisions)
      expect(decisionAt(shadow, atMs).desiredReplicas, `at ${atMs} ms`).toBe(decision.desiredReplicas);
    const before = decisionAt(shadow, at(1, 8, 59, 50)).signals;
    expect(before?.forecastArrivalRatePerSecond).toBeCloseTo(100, -1);
    expect(before?.forecastErrorRatio).toBeLessThan(FORECAST_ERROR_BOUND);
  });

  it('on raises the pool a start-up and a poll before the learned campaign, and says so', () => {
    const reactive = decisionAt(off, at(1, 8, 59, 40));
    const predictive = decisionAt(on, at(1, 8, 59, 40));
    expect(reactive.desiredReplicas).toBe(1);
    // 100 jobs/s at 10 jobs/s per replica, the queue buffering a little of it: pods Ready at 09:00.
    expect(predictive.desiredReplicas).toBeGreaterThanOrEqual(9);
    expect(predictive.desiredReplicas).toBeLessThanOrEqual(12);
    expect(predictive.reasonCode).toBe(SCALE_REASONS.forecast);
    expect(predictive.reason).toMatch(/^forecast 1\d\d jobs\/s in 20s \(learned pattern, error \d+%\); .*: 1 -> \d+$/);
    // A poll before, the forecast (a start-up and a poll ahead) does not reach the campaign yet.
    expect(decisionAt(on, at(1, 8, 59, 30)).desiredReplicas).toBe(1);
  });

  it('on never asks for fewer replicas than the reactive engine asks at the same poll', () => {
    for (const [atMs, input] of on.inputs) {
      if (atMs < at(1, 8, 0) || atMs > at(1, 9, 1)) continue;
      const reactive = decideScale({ ...input, scaling: { ...input.scaling, predictive: 'shadow' } });
      expect(decisionAt(on, atMs).desiredReplicas, `at ${atMs} ms`).toBeGreaterThanOrEqual(reactive.desiredReplicas);
    }
  });

  it('on does not act on its first day: it has not seen every time of day yet', () => {
    expect(decisionAt(on, at(0, 8, 59, 50)).reasonCode).not.toBe(SCALE_REASONS.forecast);
  });

  it('on does not act while its recent error is over the bound', () => {
    // A day of the campaign, then a day whose load is the campaign's opposite: the forecasts of
    // the second day miss by far more than the bound.
    const flipped = (atMs: number) => (atMs < DAY_MS ? campaign(atMs) : 105 - campaign(atMs));
    const unsure = run('enabled', flipped, 0, at(2, 9, 1));
    const view = decisionAt(unsure, at(2, 8, 59, 50));
    expect(view.signals?.forecastErrorRatio).toBeGreaterThan(FORECAST_ERROR_BOUND);
    expect(view.reasonCode).not.toBe(SCALE_REASONS.forecast);
  });
});
