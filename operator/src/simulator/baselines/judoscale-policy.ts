import type { PolicyDecision, PolicyObservation, ScalingPolicy } from '../simulation.ts';

// A Judoscale-style latency step policy, as Judoscale documents its worker autoscaling: queue
// latency (the oldest job's age) is sampled every 10 s and kept within a range. Above the range
// it adds `upscaleJump` replicas, no sooner than `upscaleFrequencySeconds` after the previous
// upscale (the first upscale is immediate); once the latency has stayed below the range for the
// downscale delay it removes one replica, and again after each further delay.

export const JUDOSCALE_INTERVAL_SECONDS = 10;
/** Judoscale's documented default: 10 minutes below the range before each downscale. */
export const JUDOSCALE_DEFAULT_DOWNSCALE_DELAY_SECONDS = 600;

export interface JudoscaleOptions {
  name: string;
  upperLatencySeconds: number;
  lowerLatencySeconds: number;
  upscaleJump: number;
  upscaleFrequencySeconds: number;
  downscaleDelaySeconds: number;
  minReplicas: number;
  maxReplicas: number;
}

export function judoscalePolicy(options: JudoscaleOptions): ScalingPolicy {
  let lastUpscaleMs = -Infinity;
  let belowSinceMs: number | undefined;
  let lastDownscaleMs = -Infinity;
  return {
    name: options.name,
    intervalSeconds: JUDOSCALE_INTERVAL_SECONDS,
    decide(observation: PolicyObservation): PolicyDecision {
      const { nowMs, currentReplicas } = observation;
      const latency = observation.reading.oldestJobAgeSeconds ?? 0;
      if (currentReplicas < options.minReplicas)
        return { replicas: options.minReplicas, reason: 'judoscale: below the dyno range' };
      if (latency > options.upperLatencySeconds || (currentReplicas === 0 && observation.reading.depth > 0)) {
        belowSinceMs = undefined;
        if (nowMs - lastUpscaleMs < options.upscaleFrequencySeconds * 1000 || currentReplicas >= options.maxReplicas)
          return { replicas: currentReplicas };
        lastUpscaleMs = nowMs;
        return {
          replicas: Math.min(options.maxReplicas, currentReplicas + options.upscaleJump),
          reason: `judoscale: latency ${latency.toFixed(1)}s above ${options.upperLatencySeconds}s`,
        };
      }
      if (latency >= options.lowerLatencySeconds) {
        belowSinceMs = undefined;
        return { replicas: currentReplicas };
      }
      belowSinceMs ??= nowMs;
      const delayMs = options.downscaleDelaySeconds * 1000;
      if (nowMs - belowSinceMs < delayMs || nowMs - lastDownscaleMs < delayMs || currentReplicas <= options.minReplicas)
        return { replicas: currentReplicas };
      lastDownscaleMs = nowMs;
      return {
        replicas: currentReplicas - 1,
        reason: `judoscale: latency below ${options.lowerLatencySeconds}s for the downscale delay`,
      };
    },
  };
}
