import type { ScalingSpec } from '../api/workerpool-schema.ts';
import { decideScale, initialScalerState, type ScalerState } from '../scaling/index.ts';
import type { PolicyDecision, PolicyObservation, ScalingPolicy } from './simulation.ts';

// The operator's own engine as a simulator policy: the same decideScale the controller calls,
// fed the simulated readings, with its state carried from poll to poll as the operator does.

export const ENGINE_POLICY_NAME = 'workerpool engine';

export interface EnginePolicyOptions {
  name?: string;
  pinnedReplicas?: number;
  paused?: boolean;
}

export function enginePolicy(scaling: ScalingSpec, options: EnginePolicyOptions = {}): ScalingPolicy {
  let state: ScalerState = initialScalerState();
  return {
    name: options.name ?? ENGINE_POLICY_NAME,
    intervalSeconds: scaling.pollIntervalSeconds,
    decide(observation: PolicyObservation): PolicyDecision {
      const decision = decideScale({
        nowMs: observation.nowMs,
        scaling,
        pinnedReplicas: options.pinnedReplicas,
        paused: options.paused,
        currentReplicas: observation.currentReplicas,
        readyReplicas: observation.readyReplicas,
        reading: observation.reading,
        state,
      });
      state = decision.state;
      return { replicas: decision.desiredReplicas, reason: decision.reason };
    },
  };
}
