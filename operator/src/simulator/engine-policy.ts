import type { ScalingSpec } from '../api/workerpool-schema.ts';
import { decideScale, initialScalerState, type Decision, type ScalerState } from '../scaling/index.ts';
import type { QueueReading } from '../signals/queue-reading.ts';
import { restrictToProfile, signalProfile, type SignalProfile } from '../signals/signal-profile.ts';
import type { PolicyDecision, PolicyObservation, ScalingPolicy } from './simulation.ts';

// The operator's own engine as a simulator policy: the same decideScale the controller calls,
// fed the simulated readings cut down to what the pool's format really reports (its signal
// profile), with its state carried from poll to poll as the operator does.

export const ENGINE_POLICY_NAME = 'workerpool engine';
/**
 * Jobs per second that other pools on the same Redis complete, when the pool shares its Redis
 * (sharedRedis): a shared counter (Sidekiq's stat:processed) counts them as well, so a policy
 * trusting it would see phantom throughput.
 */
export const SHARED_COUNTER_OTHER_JOBS_PER_SECOND = 40;

export interface EnginePolicyOptions {
  name?: string;
  /** What the pool's format reports (default native: every signal the simulator has). */
  profile?: SignalProfile;
  pinnedReplicas?: number;
  paused?: boolean;
  /**
   * Other pools' processes run on the same Redis (default: the pool has its Redis, or its
   * redis-namespace, to itself), so a counter kept for the whole Redis is not the pool's.
   */
  sharedRedis?: boolean;
  /** Called at every poll with what the engine was shown and what it decided (bench:scaling's poll log). */
  onPoll?: (poll: EnginePoll) => void;
}

/** One poll of the engine in the simulator: the reading as the profile reports it, and the decision. */
export interface EnginePoll {
  nowMs: number;
  currentReplicas: number;
  readyReplicas: number;
  reading: QueueReading;
  decision: Decision;
}

export function enginePolicy(scaling: ScalingSpec, options: EnginePolicyOptions = {}): ScalingPolicy {
  const profile = options.profile ?? signalProfile('native');
  let state: ScalerState = initialScalerState();
  return {
    name: options.name ?? ENGINE_POLICY_NAME,
    intervalSeconds: scaling.pollIntervalSeconds,
    decide(observation: PolicyObservation): PolicyDecision {
      const otherPoolsJobs =
        options.sharedRedis === true
          ? Math.round((observation.nowMs / 1000) * SHARED_COUNTER_OTHER_JOBS_PER_SECOND)
          : 0;
      const reading = restrictToProfile(profile, observation.reading, otherPoolsJobs);
      const decision = decideScale({
        nowMs: observation.nowMs,
        scaling,
        format: profile.format,
        pinnedReplicas: options.pinnedReplicas,
        paused: options.paused,
        currentReplicas: observation.currentReplicas,
        readyReplicas: observation.readyReplicas,
        reading,
        state,
      });
      state = decision.state;
      options.onPoll?.({
        nowMs: observation.nowMs,
        currentReplicas: observation.currentReplicas,
        readyReplicas: observation.readyReplicas,
        reading,
        decision,
      });
      return { replicas: decision.desiredReplicas, reason: decision.reason };
    },
  };
}
