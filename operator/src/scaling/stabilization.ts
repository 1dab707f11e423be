import type { TimedReplicas } from './types.ts';

// The HorizontalPodAutoscaler's stabilization windows, with its semantics: a scale-up goes no
// higher than the lowest recommendation of the up window (a short spike in the signal does not
// add pods), and a scale-down goes no lower than the highest recommendation of the down window
// (the pool shrinks only after the load stayed low for the whole window). The engine's headroom
// band (keepRecommendation) applies to this poll's need only: the window holds past needs, not
// past needs plus headroom, which held a fading load 10 % higher for the whole window.

export interface StabilizationInput {
  nowMs: number;
  currentReplicas: number;
  /** This poll's recommendation. */
  recommendation: number;
  /** What a scale-down may go to at most this poll (default the recommendation); past polls count with their need. */
  keepRecommendation?: number;
  /** Earlier recommendations (this poll's is not among them). */
  history: TimedReplicas[];
  upWindowSeconds: number;
  downWindowSeconds: number;
}

export function stabilize(input: StabilizationInput): number {
  const upCutoff = input.nowMs - input.upWindowSeconds * 1000;
  const downCutoff = input.nowMs - input.downWindowSeconds * 1000;
  let upRecommendation = input.recommendation;
  let downRecommendation = input.keepRecommendation ?? input.recommendation;
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
export function rememberRecommendation(
  history: TimedReplicas[],
  entry: TimedReplicas,
  keepSeconds: number,
): TimedReplicas[] {
  const cutoff = entry.atMs - keepSeconds * 1000;
  return history.filter((past) => past.atMs > cutoff).concat(entry);
}

/**
 * The engine's own hysteresis on top of the windows (the sizing's SCALE_DOWN_HEADROOM is the
 * other half): after one scale-down the next waits SCALE_DOWN_SPACING_SECONDS, so a load that
 * fades is followed in a few steps rather than one per poll; a load that went away (the
 * replicas at least halve) is followed at once.
 */
export const SCALE_DOWN_SPACING_SECONDS = 60;
/** The down window while the arrival rate has really dropped (see downWindowSeconds, the stabilize stage of decide-scale.ts). */
export const FALLING_DOWN_WINDOW_SECONDS = 15;

export function spacedScaleDown(
  currentReplicas: number,
  sinceLastScaleDownSeconds: number,
  desiredReplicas: number,
): number {
  // Halving or more is a load that went away, not one that fades: follow it at once.
  if (desiredReplicas >= currentReplicas || desiredReplicas <= currentReplicas / 2) return desiredReplicas;
  return sinceLastScaleDownSeconds < SCALE_DOWN_SPACING_SECONDS ? currentReplicas : desiredReplicas;
}
