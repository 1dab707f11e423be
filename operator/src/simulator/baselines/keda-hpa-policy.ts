import type { ScaleRules } from '../../api/workerpool-schema.ts';
import { limitRate, longestPeriodSeconds, rememberScaleEvent } from '../../scaling/rate-limits.ts';
import { rememberRecommendation, stabilize } from '../../scaling/stabilization.ts';
import type { ScaleEvent, TimedReplicas } from '../../scaling/types.ts';
import type { PolicyDecision, PolicyObservation, ScalingPolicy } from '../simulation.ts';

// KEDA's redis (list) scaler driving a HorizontalPodAutoscaler with default behaviour, as KEDA
// and Kubernetes document them:
// - KEDA polls every pollingInterval (30 s): list length > activationListLength (0) activates
//   the ScaledObject and scales 0 -> 1; inactive for cooldownPeriod (300 s) scales to 0 when
//   minReplicaCount is 0.
// - The HPA syncs every 15 s with an AverageValue target of listLength (default 5) per replica:
//   usage ratio = LLEN / (listLength × replicas); within the 0.1 tolerance it keeps the
//   replicas, otherwise it recommends ceil(LLEN / listLength).
// - Default behaviour: scale-up window 0 s, policies max(100 %, 4 pods) per 15 s; scale-down
//   window 300 s, policy 100 % per 15 s. The HPA does nothing while the target has 0 replicas.
// The windows and policies reuse the engine's implementation of the same HPA semantics.

export const KEDA_POLLING_INTERVAL_SECONDS = 30;
export const KEDA_COOLDOWN_PERIOD_SECONDS = 300;
export const KEDA_DEFAULT_LIST_LENGTH = 5;
export const HPA_SYNC_PERIOD_SECONDS = 15;
export const HPA_TOLERANCE = 0.1;
export const HPA_DEFAULT_SCALE_UP: ScaleRules = {
  stabilizationWindowSeconds: 0,
  selectPolicy: 'Max',
  policies: [
    { type: 'Percent', value: 100, periodSeconds: 15 },
    { type: 'Pods', value: 4, periodSeconds: 15 },
  ],
};
export const HPA_DEFAULT_SCALE_DOWN: ScaleRules = {
  stabilizationWindowSeconds: 300,
  selectPolicy: 'Max',
  policies: [{ type: 'Percent', value: 100, periodSeconds: 15 }],
};

export interface KedaHpaOptions {
  name: string;
  listLength: number;
  minReplicas: number;
  maxReplicas: number;
}

/** The HPA's replica calculation for an external AverageValue metric. */
export function hpaAverageValueReplicas(metric: number, targetPerReplica: number, currentReplicas: number): number {
  const ratio = metric / (targetPerReplica * currentReplicas);
  if (Math.abs(1 - ratio) <= HPA_TOLERANCE) return currentReplicas;
  return Math.ceil(metric / targetPerReplica);
}

/**
 * AWS's "backlog per instance" rule: the acceptable backlog per instance is the acceptable
 * latency divided by the average processing time, and an instance here runs `concurrency` jobs.
 */
export function backlogPerInstance(
  targetLatencySeconds: number,
  meanServiceSeconds: number,
  concurrency: number,
): number {
  return Math.max(1, Math.floor((targetLatencySeconds / meanServiceSeconds) * concurrency));
}

export function kedaHpaPolicy(options: KedaHpaOptions): ScalingPolicy {
  let recommendations: TimedReplicas[] = [];
  let events: ScaleEvent[] = [];
  let lastActiveMs = -Infinity;
  let sinceKedaPollSeconds = Infinity;
  const hpaMin = Math.max(1, options.minReplicas);
  const keepEvents = longestPeriodSeconds([HPA_DEFAULT_SCALE_UP, HPA_DEFAULT_SCALE_DOWN]);
  return {
    name: options.name,
    intervalSeconds: HPA_SYNC_PERIOD_SECONDS,
    decide(observation: PolicyObservation): PolicyDecision {
      const { nowMs, currentReplicas } = observation;
      const listLength = observation.reading.depth;
      sinceKedaPollSeconds += HPA_SYNC_PERIOD_SECONDS;
      if (sinceKedaPollSeconds >= KEDA_POLLING_INTERVAL_SECONDS) {
        sinceKedaPollSeconds = 0;
        if (listLength > 0) lastActiveMs = nowMs;
        if (listLength > 0 && currentReplicas === 0)
          return { replicas: hpaMin, reason: `keda: list length ${listLength} > activation 0` };
        if (
          listLength === 0 &&
          options.minReplicas === 0 &&
          currentReplicas > 0 &&
          nowMs - lastActiveMs >= KEDA_COOLDOWN_PERIOD_SECONDS * 1000
        ) {
          recommendations = [];
          return { replicas: 0, reason: 'keda: inactive for the cooldown period' };
        }
      }
      if (currentReplicas === 0) return { replicas: 0 };
      const raw = hpaAverageValueReplicas(listLength, options.listLength, currentReplicas);
      const recommendation = Math.min(options.maxReplicas, Math.max(hpaMin, raw));
      const stabilized = stabilize({
        nowMs,
        currentReplicas,
        recommendation,
        history: recommendations,
        upWindowSeconds: HPA_DEFAULT_SCALE_UP.stabilizationWindowSeconds,
        downWindowSeconds: HPA_DEFAULT_SCALE_DOWN.stabilizationWindowSeconds,
      });
      recommendations = rememberRecommendation(
        recommendations,
        { atMs: nowMs, replicas: recommendation },
        HPA_DEFAULT_SCALE_DOWN.stabilizationWindowSeconds,
      );
      const desired = limitRate({
        nowMs,
        currentReplicas,
        desiredReplicas: stabilized,
        events,
        scaleUp: HPA_DEFAULT_SCALE_UP,
        scaleDown: HPA_DEFAULT_SCALE_DOWN,
      });
      events = rememberScaleEvent(events, nowMs, desired - currentReplicas, keepEvents);
      return { replicas: desired, reason: `hpa: list length ${listLength} / target ${options.listLength} per replica` };
    },
  };
}
