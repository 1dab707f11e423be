import type { TimedReplicas } from './types.ts';

// The HorizontalPodAutoscaler's stabilization windows, with its semantics: a scale-up goes no
// higher than the lowest recommendation of the up window (a short spike in the signal does not
// add pods), and a scale-down goes no lower than the highest recommendation of the down window
// (the pool shrinks only after the load stayed low for the whole window).

export interface StabilizationInput {
  nowMs: number;
  currentReplicas: number;
  /** This poll's recommendation. */
  recommendation: number;
  /** Earlier recommendations (this poll's is not among them). */
  history: TimedReplicas[];
  upWindowSeconds: number;
  downWindowSeconds: number;
}

export function stabilize(input: StabilizationInput): number {
  const upCutoff = input.nowMs - input.upWindowSeconds * 1000;
  const downCutoff = input.nowMs - input.downWindowSeconds * 1000;
  let upRecommendation = input.recommendation;
  let downRecommendation = input.recommendation;
  for (const past of input.history) {
    if (past.atMs > upCutoff) upRecommendation = Math.min(upRecommendation, past.replicas);
    if (past.atMs > downCutoff) downRecommendation = Math.max(downRecommendation, past.replicas);
  }
  let stabilized = input.currentReplicas;
  if (stabilized < upRecommendation) stabilized = upRecommendation;
  if (stabilized > downRecommendation) stabilized = downRecommendation;
  return stabilized;
}

/** Recommendations still inside the longer window, with this poll's appended. */
export function rememberRecommendation(history: TimedReplicas[], entry: TimedReplicas, keepSeconds: number): TimedReplicas[] {
  const cutoff = entry.atMs - keepSeconds * 1000;
  return history.filter((past) => past.atMs > cutoff).concat(entry);
}
