import type { DrainView, PoolScaleView, ScaleDecisions } from '../controller/scale-decisions.ts';
import type { Decision } from '../scaling/index.ts';
import type { QueueReading } from '../signals/index.ts';
import { busyByPod, type Published } from './status-publisher.ts';

// The one place where a pool's latest decision waits for the reconciler. The autoscaler puts;
// the reconciler reads. A read builds the view from what was put and changes nothing.

interface Stored {
  generation: number | undefined;
  decision: Decision;
  /** The Deployment's replicas: the decision's, plus pods still draining. */
  replicas: number;
  /** Why those replicas: the decision's reason, or for a drained scale-down the decision that asked for it. */
  reason: string;
  /** Drain before delete's pods, when it applies to the pool. */
  drain: DrainView | undefined;
  published: Published;
  /** The latest good reading, for per-pod busy counts; undefined when idle-first is off. */
  busyFrom: QueueReading | undefined;
}

export class DecisionStore implements ScaleDecisions {
  readonly #pools = new Map<string, Stored>();

  put(key: string, stored: Stored): void {
    this.#pools.set(key, stored);
  }

  delete(key: string): void {
    this.#pools.delete(key);
  }

  read(key: string): PoolScaleView | undefined {
    const stored = this.#pools.get(key);
    if (!stored) return undefined;
    const { decision, published } = stored;
    const view: PoolScaleView = {
      generation: stored.generation,
      replicas: stored.replicas,
      reasonCode: decision.reasonCode,
      reason: stored.reason,
      conditions: published.conditions,
    };
    if (published.queue) view.queue = published.queue;
    if (stored.drain) view.drain = stored.drain;
    if (published.forecast) view.forecast = published.forecast;
    const byPod = busyByPod(stored.busyFrom);
    if (byPod) view.busyByPod = byPod;
    return view;
  }
}
