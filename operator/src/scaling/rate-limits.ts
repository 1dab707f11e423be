import type { ScaleRules } from '../api/workerpool-schema.ts';
import type { ScaleEvent } from './types.ts';

// The HorizontalPodAutoscaler's scaling policies: each policy allows a change of `value` pods
// (or percent of the replicas at the start of its period) per `periodSeconds`, counting the
// changes already made within that period. selectPolicy Max takes the policy allowing the
// largest change, Min the smallest, Disabled forbids the direction. Unlike the HPA, a pool
// without policies is not rate limited: the engine sizes from the queue, not from a noisy ratio.

export interface RateLimitInput {
  nowMs: number;
  currentReplicas: number;
  desiredReplicas: number;
  events: ScaleEvent[];
  scaleUp: ScaleRules;
  scaleDown: ScaleRules;
}

export function limitRate(input: RateLimitInput): number {
  const { currentReplicas: current, desiredReplicas: desired } = input;
  if (desired > current) return Math.min(desired, scaleUpLimit(input));
  if (desired < current) return Math.max(desired, scaleDownLimit(input));
  return desired;
}

function changedWithin(events: ScaleEvent[], nowMs: number, periodSeconds: number, direction: 1 | -1): number {
  const cutoff = nowMs - periodSeconds * 1000;
  let total = 0;
  for (const event of events) {
    if (event.atMs > cutoff && Math.sign(event.change) === direction) total += Math.abs(event.change);
  }
  return total;
}

function scaleUpLimit(input: RateLimitInput): number {
  const rules = input.scaleUp;
  if (rules.selectPolicy === 'Disabled') return input.currentReplicas;
  const policies = rules.policies ?? [];
  if (policies.length === 0) return Infinity;
  const proposals = policies.map((policy) => {
    const periodStart = input.currentReplicas - changedWithin(input.events, input.nowMs, policy.periodSeconds, 1);
    return policy.type === 'Pods' ? periodStart + policy.value : Math.ceil(periodStart * (1 + policy.value / 100));
  });
  const limit = rules.selectPolicy === 'Min' ? Math.min(...proposals) : Math.max(...proposals);
  return Math.max(limit, input.currentReplicas);
}

function scaleDownLimit(input: RateLimitInput): number {
  const rules = input.scaleDown;
  if (rules.selectPolicy === 'Disabled') return input.currentReplicas;
  const policies = rules.policies ?? [];
  if (policies.length === 0) return -Infinity;
  const proposals = policies.map((policy) => {
    const periodStart = input.currentReplicas + changedWithin(input.events, input.nowMs, policy.periodSeconds, -1);
    return policy.type === 'Pods' ? periodStart - policy.value : Math.trunc(periodStart * (1 - policy.value / 100));
  });
  // Max selects the policy that allows the largest change, which for a scale-down is the lowest.
  const limit = rules.selectPolicy === 'Min' ? Math.max(...proposals) : Math.min(...proposals);
  return Math.min(limit, input.currentReplicas);
}

/** Events still inside the longest policy period, with this change appended when there is one. */
export function rememberScaleEvent(
  events: ScaleEvent[],
  nowMs: number,
  change: number,
  keepSeconds: number,
): ScaleEvent[] {
  const cutoff = nowMs - keepSeconds * 1000;
  const kept = events.filter((event) => event.atMs > cutoff);
  return change === 0 ? kept : kept.concat({ atMs: nowMs, change });
}

/** The longest period any policy looks back over. */
export function longestPeriodSeconds(rules: ScaleRules[]): number {
  let longest = 0;
  for (const rule of rules) for (const policy of rule.policies ?? []) longest = Math.max(longest, policy.periodSeconds);
  return longest;
}
