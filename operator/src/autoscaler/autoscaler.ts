import type { V1Deployment } from '@kubernetes/client-node';
import type { WorkerPool } from '../api/workerpool-schema.ts';
import { ConditionType, Reason, type ConditionInput } from '../controller/conditions.ts';
import { apiMessage } from '../controller/kube-errors.ts';
import type { PoolScaleView, ReplicaAdvisor } from '../controller/replica-advisor.ts';
import type { DeploymentOf } from '../controller/scale-target.ts';
import type { Priority } from '../controller/work-queue.ts';
import type { Logger } from '../logger.ts';
import type { LoopWatchdog } from '../loop-watchdog.ts';
import type { OperatorMetrics, PoolGaugeValues } from '../metrics.ts';
import { decideScale, initialScalerState, type Decision, type ScaleInput } from '../scaling/index.ts';
import { SignalPoller, readerFor, reportedReading, type PoolReadResult, type QueueReading } from '../signals/index.ts';
import { Backoff } from './backoff.ts';
import { namesSecrets, readPoolCredentials, type ReadSecretValue } from './pool-credentials.ts';
import { busyByPod, nextPublished, queueStatusOf, type Published } from './published-status.ts';

// The operator's autoscaling loop: every poll interval, all pools that share a Redis endpoint
// are read in one round trip and each pool's reading goes through the scaling engine. The
// reconciler, which alone writes to the API, reads the latest decision from here without I/O,
// and is woken only when the decision differs from the Deployment or status is due a refresh.
// Secrets are read when a pool's queue spec changes, and again only after a failure, with backoff.

interface TrackedPool {
  key: string;
  namespace: string;
  name: string;
  pool: WorkerPool;
  /** spec.queue as last seen; a change means registering again (and reading the Secrets again). */
  queueKey: string;
  /** spec.queue the poller holds a registration for. */
  registeredQueueKey: string | undefined;
  /** Counts registrations started, so that a slow one cannot overwrite a newer one. */
  registrations: number;
  endpoint: string | undefined;
  credentialsProblem: string | undefined;
  secretBackoff: Backoff;
  retryTimer: NodeJS.Timeout | undefined;
  /** The input of the latest decision: replayed with the new spec when the spec changes between polls. */
  lastInput: ScaleInput | undefined;
  decision: Decision | undefined;
  decidedGeneration: number | undefined;
  result: PoolReadResult | undefined;
  published: Published | undefined;
  throughputPerSecond: number | undefined;
  lastCompletions: { atMs: number; total: number } | undefined;
}

export interface AutoscalerDeps {
  readSecretValue: ReadSecretValue;
  deploymentOf: DeploymentOf;
  /** Asks for a reconcile of the pool: the only path to an API write. A status refresh alone asks at low priority. */
  enqueue: (namespace: string, name: string, priority?: Priority) => void;
  metrics: OperatorMetrics;
  logger: Logger;
  watchdog?: LoopWatchdog;
  now?: () => number;
  poller?: SignalPoller;
  /** First delay before reading a pool's Secrets again after a failure (doubles up to a minute). */
  secretRetryMs?: number;
  /** Set pod-deletion-cost from busy counts before a scale-down (--idle-first-scale-down); default true. */
  idleFirstScaleDown?: boolean;
}

/** A poll loop that has not finished a poll this long after it was due is stuck. */
const POLL_STUCK_SLACK_MS = 30_000;

export class Autoscaler implements ReplicaAdvisor {
  readonly #deps: AutoscalerDeps;
  readonly #poller: SignalPoller;
  readonly #pools = new Map<string, TrackedPool>();
  readonly #timers = new Map<string, NodeJS.Timeout>();
  #stopped = false;

  constructor(deps: AutoscalerDeps) {
    this.#deps = deps;
    this.#poller = deps.poller ?? new SignalPoller();
    deps.metrics.readPoolGaugesFrom(() => this.#gaugeValues());
  }

  /** What each tracked pool's gauges show when Prometheus scrapes: its latest reading and decision. */
  *#gaugeValues(): Iterable<PoolGaugeValues> {
    for (const tracked of this.#pools.values()) {
      const { result, pool } = tracked;
      const reading = result === undefined ? undefined : result.ok ? result.reading : result.lastGood;
      // Spec and Deployment gauges appear with the first poll, as the readings do.
      const polled = result !== undefined;
      yield {
        namespace: tracked.namespace,
        pool: tracked.name,
        queueDepth: reading?.depth,
        queueOldestJobAgeSeconds: reading?.oldestJobAgeSeconds,
        queueBusy: reading?.busy,
        queueUnreadableHeartbeats: reading === undefined ? undefined : (reading.unreadableHeartbeats?.count ?? 0),
        queueThroughput: tracked.throughputPerSecond,
        signalsAvailable: polled ? (result.ok ? 1 : 0) : undefined,
        desiredReplicas: tracked.decision?.desiredReplicas,
        readyReplicas: polled ? (this.#deps.deploymentOf(pool)?.status?.readyReplicas ?? 0) : undefined,
        maxReplicas: polled ? pool.spec.scaling.maxReplicas : undefined,
        targetLatencySeconds: polled ? pool.spec.scaling.targetLatencySeconds : undefined,
      };
    }
  }

  #now(): number {
    return this.#deps.now?.() ?? Date.now();
  }

  view(pool: WorkerPool, deployment: V1Deployment | undefined): PoolScaleView {
    const tracked = this.#track(pool);
    if (tracked.decision === undefined || tracked.decidedGeneration !== pool.metadata.generation)
      this.#redecide(tracked, deployment);
    this.#refreshPublished(tracked);
    const decision = tracked.decision as Decision;
    const published = tracked.published as Published;
    const view: PoolScaleView = {
      replicas: decision.desiredReplicas,
      reason: decision.reason,
      conditions: published.conditions,
    };
    if (published.queue) view.queue = published.queue;
    const byPod =
      this.#deps.idleFirstScaleDown === false
        ? undefined
        : busyByPod(tracked.result?.ok ? tracked.result.reading : undefined);
    if (byPod) view.busyByPod = byPod;
    return view;
  }

  forget(key: string): void {
    const tracked = this.#pools.get(key);
    if (!tracked) return;
    this.#pools.delete(key);
    clearTimeout(tracked.retryTimer);
    void this.#poller.unregister(key);
    if (tracked.endpoint) this.#reschedule(tracked.endpoint);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    for (const tracked of this.#pools.values()) clearTimeout(tracked.retryTimer);
    for (const endpoint of this.#poller.endpoints()) this.#deps.watchdog?.remove(pollLoop(endpoint));
    await this.#poller.close();
  }

  /** Keeps the pool's spec; registers it again (Secrets included) when its queue spec changed. */
  #track(pool: WorkerPool): TrackedPool {
    const key = keyOf(pool);
    let tracked = this.#pools.get(key);
    if (!tracked) {
      tracked = {
        key,
        namespace: pool.metadata.namespace ?? '',
        name: pool.metadata.name ?? '',
        pool,
        queueKey: '',
        registeredQueueKey: undefined,
        registrations: 0,
        endpoint: undefined,
        credentialsProblem: undefined,
        secretBackoff: new Backoff(this.#deps.secretRetryMs),
        retryTimer: undefined,
        lastInput: undefined,
        decision: undefined,
        decidedGeneration: undefined,
        result: undefined,
        published: undefined,
        throughputPerSecond: undefined,
        lastCompletions: undefined,
      };
      this.#pools.set(key, tracked);
      this.#startScaleDecisionSeries(tracked);
    }
    tracked.pool = pool;
    const queueKey = JSON.stringify(pool.spec.queue);
    if (queueKey !== tracked.queueKey) {
      tracked.queueKey = queueKey;
      tracked.secretBackoff.reset();
      clearTimeout(tracked.retryTimer);
      tracked.retryTimer = undefined;
      void this.#register(tracked);
    }
    return tracked;
  }

  /**
   * A pool that never scaled shows 0 in both directions rather than no series: `increase()` and
   * alerts then see its first change, and a dashboard shows 0, not "no data". The reason is empty
   * (no decision yet), which PromQL reads as no reason label.
   */
  #startScaleDecisionSeries(tracked: TrackedPool): void {
    for (const direction of ['up', 'down'])
      this.#deps.metrics.scaleDecisions.inc(
        { namespace: tracked.namespace, pool: tracked.name, direction, reason: '' },
        0,
      );
  }

  async #register(tracked: TrackedPool): Promise<void> {
    const token = ++tracked.registrations;
    const pool = tracked.pool;
    const queueKey = tracked.queueKey;
    let problem: string | undefined;
    let retry = true;
    let endpoint: string | undefined;
    try {
      const credentials = await readPoolCredentials(pool, this.#deps.readSecretValue);
      if (credentials.ok) {
        try {
          endpoint = this.#poller.register(tracked.key, {
            queue: pool.spec.queue,
            credentials: credentials.credentials,
            tlsMaterial: credentials.tls,
          });
        } catch (error) {
          // The spec itself cannot be read (a bad URL): only an edit of it can help.
          problem = error instanceof Error ? error.message : String(error);
          retry = false;
        }
      } else {
        problem = credentials.problem;
      }
    } catch (error) {
      problem = `could not read the Redis credentials: ${apiMessage(error)}`;
    }
    if (this.#stopped || token !== tracked.registrations || this.#pools.get(tracked.key) !== tracked) {
      if (endpoint && this.#pools.get(tracked.key) !== tracked) void this.#poller.unregister(tracked.key);
      return;
    }
    tracked.credentialsProblem = problem;
    if (problem === undefined && endpoint !== undefined) {
      const previous = tracked.endpoint;
      tracked.endpoint = endpoint;
      tracked.registeredQueueKey = queueKey;
      if (previous && previous !== endpoint) this.#reschedule(previous);
      this.#reschedule(endpoint);
    } else {
      if (tracked.registeredQueueKey !== queueKey) this.#dropRegistration(tracked);
      this.#deps.logger.warn({ pool: tracked.key, problem }, "cannot read this pool's queue");
      if (retry) this.#retrySecrets(tracked);
    }
    if (this.#refreshPublished(tracked)) this.#deps.enqueue(tracked.namespace, tracked.name);
  }

  /** A registration for an older queue spec must not keep reading the old queue. */
  #dropRegistration(tracked: TrackedPool): void {
    const endpoint = tracked.endpoint;
    tracked.endpoint = undefined;
    tracked.registeredQueueKey = undefined;
    tracked.result = undefined;
    void this.#poller.unregister(tracked.key);
    if (endpoint) this.#reschedule(endpoint);
  }

  #retrySecrets(tracked: TrackedPool): void {
    if (tracked.retryTimer || this.#stopped) return;
    tracked.retryTimer = setTimeout(() => {
      tracked.retryTimer = undefined;
      void this.#register(tracked);
    }, tracked.secretBackoff.next());
  }

  /** The latest decision again, under the pool's new spec (a pin, a pause, new limits), or the first one. */
  #redecide(tracked: TrackedPool, deployment: V1Deployment | undefined): void {
    const base = tracked.lastInput ?? { nowMs: this.#now(), reading: undefined, state: initialScalerState() };
    this.#decide(tracked, { ...base, ...this.#specInput(tracked.pool, deployment) });
  }

  #specInput(
    pool: WorkerPool,
    deployment: V1Deployment | undefined,
  ): Pick<ScaleInput, 'scaling' | 'format' | 'pinnedReplicas' | 'paused' | 'currentReplicas' | 'readyReplicas'> {
    return {
      scaling: pool.spec.scaling,
      format: pool.spec.queue.format,
      pinnedReplicas: pool.spec.replicas,
      paused: pool.spec.paused,
      // A Deployment that does not exist yet runs nothing.
      currentReplicas: deployment?.spec?.replicas ?? 0,
      readyReplicas: deployment?.status?.readyReplicas ?? 0,
    };
  }

  #decide(tracked: TrackedPool, input: ScaleInput): Decision {
    const decision = decideScale(input);
    tracked.lastInput = input;
    tracked.decision = decision;
    tracked.decidedGeneration = tracked.pool.metadata.generation;
    return decision;
  }

  /** Updates what status shows when a write is due; true when it changed. */
  #refreshPublished(tracked: TrackedPool): boolean {
    const nowMs = this.#now();
    const conditions = [
      this.#signalsCondition(tracked),
      idleFirstCondition(tracked.pool, this.#deps.idleFirstScaleDown !== false),
    ];
    const queueOf = () => {
      const reported = tracked.result ? reportedReading(tracked.result, nowMs) : undefined;
      return reported ? queueStatusOf(reported, tracked.throughputPerSecond) : undefined;
    };
    const desiredReplicas = tracked.decision?.desiredReplicas ?? 0;
    const published = nextPublished(tracked.published, { conditions, desiredReplicas }, queueOf, nowMs);
    if (!published) return false;
    tracked.published = published;
    return true;
  }

  #signalsCondition(tracked: TrackedPool): ConditionInput {
    const { pool, result, credentialsProblem } = tracked;
    if (credentialsProblem)
      return {
        type: ConditionType.SignalsAvailable,
        status: 'False',
        reason: Reason.CredentialsUnavailable,
        message: credentialsProblem,
      };
    if (result === undefined)
      return {
        type: ConditionType.SignalsAvailable,
        status: 'Unknown',
        reason: Reason.SignalsPending,
        message: 'waiting for the first reading',
      };
    if (!result.ok)
      return {
        type: ConditionType.SignalsAvailable,
        status: 'False',
        reason: Reason.SignalsReadFailed,
        message: result.error.message,
      };
    return {
      type: ConditionType.SignalsAvailable,
      status: 'True',
      reason: Reason.SignalsRead,
      message: `read ${pool.spec.queue.format} queue ${pool.spec.queue.names.join(', ')}`,
    };
  }

  /** One timer per endpoint, at the shortest poll interval of the pools it serves. */
  #reschedule(endpoint: string): void {
    if (this.#stopped) return;
    const next = this.#intervalOf(endpoint);
    if (next === undefined) {
      clearTimeout(this.#timers.get(endpoint));
      this.#timers.delete(endpoint);
      this.#deps.watchdog?.remove(pollLoop(endpoint));
      return;
    }
    if (this.#timers.has(endpoint)) return;
    this.#deps.watchdog?.expect(pollLoop(endpoint), POLL_STUCK_SLACK_MS);
    this.#timers.set(
      endpoint,
      setTimeout(() => this.#tick(endpoint), 0),
    );
  }

  #intervalOf(endpoint: string): number | undefined {
    const intervals = [...this.#pools.values()]
      .filter((p) => p.endpoint === endpoint)
      .map((p) => p.pool.spec.scaling.pollIntervalSeconds * 1000);
    return intervals.length === 0 ? undefined : Math.min(...intervals);
  }

  /**
   * Polls at a fixed rate: the next poll is due an interval after this one started, not after it
   * ended, or every poll would come late by its own duration. Timers run on the real clock.
   */
  #tick(endpoint: string): void {
    const loop = pollLoop(endpoint);
    const startedAt = performance.now();
    this.#pollEndpoint(endpoint)
      .catch((error: unknown) => this.#deps.logger.error({ endpoint, err: String(error) }, 'poll failed'))
      .finally(() => {
        this.#deps.watchdog?.done(loop);
        const interval = this.#intervalOf(endpoint);
        if (this.#stopped || interval === undefined) {
          this.#timers.delete(endpoint);
          this.#deps.watchdog?.remove(loop);
          return;
        }
        this.#deps.watchdog?.expect(loop, interval + POLL_STUCK_SLACK_MS);
        this.#timers.set(
          endpoint,
          setTimeout(() => this.#tick(endpoint), Math.max(0, startedAt + interval - performance.now())),
        );
      });
  }

  async #pollEndpoint(endpoint: string): Promise<void> {
    const results = await this.#poller.pollEndpoint(endpoint);
    for (const [key, result] of results) {
      const tracked = this.#pools.get(key);
      if (tracked && !this.#stopped) this.#apply(tracked, result);
    }
  }

  #countThroughput(tracked: TrackedPool, reading: QueueReading): void {
    const total = reading.completedTotal;
    if (total === undefined) return;
    const last = tracked.lastCompletions;
    // A counter that went down was reset (a Redis flush): start counting again.
    if (last && reading.observedAtMs > last.atMs && total >= last.total)
      tracked.throughputPerSecond = ((total - last.total) * 1000) / (reading.observedAtMs - last.atMs);
    tracked.lastCompletions = { atMs: reading.observedAtMs, total };
  }

  /** Counters move with each poll; the gauges are read from `tracked` at scrape time. */
  #recordMetrics(tracked: TrackedPool, result: PoolReadResult): void {
    if (!result.ok) {
      this.#deps.metrics.signalReadErrors.inc({
        namespace: tracked.namespace,
        pool: tracked.name,
        reason: result.error.kind,
      });
      return;
    }
    this.#countThroughput(tracked, result.reading);
  }

  /** Runs the engine on a fresh result and wakes the reconciler only when something would change. */
  #apply(tracked: TrackedPool, result: PoolReadResult): void {
    const { pool } = tracked;
    tracked.result = result;
    this.#recordMetrics(tracked, result);
    if (result.ok) tracked.secretBackoff.reset();
    else if (result.error.kind === 'auth-failed' && namesSecrets(pool)) this.#retrySecrets(tracked); // the password may have been rotated
    const deployment = this.#deps.deploymentOf(pool);
    const input: ScaleInput = {
      nowMs: this.#now(),
      reading: result.ok ? result.reading : undefined,
      state: tracked.decision?.state ?? initialScalerState(),
      ...this.#specInput(pool, deployment),
    };
    const previous = tracked.decision?.desiredReplicas;
    const decision = this.#decide(tracked, input);
    if (decision.desiredReplicas !== previous) {
      this.#deps.logger.info(
        { pool: tracked.key, from: input.currentReplicas, to: decision.desiredReplicas, reason: decision.reason },
        'scale decision',
      );
    }
    const labels = { namespace: tracked.namespace, pool: tracked.name };
    const published = this.#refreshPublished(tracked);
    if (decision.desiredReplicas !== input.currentReplicas) {
      this.#deps.metrics.scaleDecisions.inc({
        ...labels,
        direction: decision.desiredReplicas > input.currentReplicas ? 'up' : 'down',
        reason: decision.reasonCode,
      });
    }
    if (decision.desiredReplicas !== input.currentReplicas) this.#deps.enqueue(tracked.namespace, tracked.name);
    else if (published) this.#deps.enqueue(tracked.namespace, tracked.name, 'low');
  }
}

const keyOf = (pool: WorkerPool) => `${pool.metadata.namespace ?? ''}/${pool.metadata.name ?? ''}`;
const pollLoop = (endpoint: string) => `poll ${endpoint}`;

/** Idle-first scale-down works where heartbeats say which pod runs how many jobs. */
function idleFirstCondition(pool: WorkerPool, enabled: boolean): ConditionInput {
  if (!enabled) {
    return {
      type: ConditionType.IdleFirstScaleDown,
      status: 'False',
      reason: Reason.IdleFirstDisabled,
      message:
        'turned off by the operator (--idle-first-scale-down=false): scale-down removes pods without regard to the jobs they run',
    };
  }
  const unavailable = readerFor(pool.spec.queue.format).perPodBusyUnavailable;
  if (unavailable !== undefined) {
    return {
      type: ConditionType.IdleFirstScaleDown,
      status: 'False',
      reason: Reason.BusyCountsUnavailable,
      message: `format ${pool.spec.queue.format}: ${unavailable}; scale-down removes pods without regard to the jobs they run`,
    };
  }
  return {
    type: ConditionType.IdleFirstScaleDown,
    status: 'True',
    reason: Reason.BusyCountsReported,
    message: 'pods running the fewest jobs are removed first (pod-deletion-cost from worker heartbeats)',
  };
}
