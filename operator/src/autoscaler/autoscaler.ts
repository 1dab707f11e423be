import { createHash } from 'node:crypto';
import type { V1Deployment } from '@kubernetes/client-node';
import type { QueueStatus, WorkerPool } from '../api/workerpool-schema.ts';
import { ConditionType, Reason, type ConditionInput } from '../controller/conditions.ts';
import type { KubeClient } from '../controller/kube-client.ts';
import { apiMessage } from '../controller/kube-errors.ts';
import { staticReplicas, type ReplicaAdvisor, type ReplicaDecision } from '../controller/replica-advisor.ts';
import type { Logger } from '../logger.ts';
import type { OperatorMetrics } from '../metrics.ts';
import { decideScale, initialScalerState, type Decision, type ScalerState } from '../scaling/index.ts';
import { SignalPoller, reportedReading, type PoolReadResult, type QueueReading, type RedisCredentials, type TlsMaterial } from '../signals/index.ts';

// The operator's autoscaling loop: every poll interval, all pools that share a Redis endpoint
// are read in one round trip, each pool's reading goes through the scaling engine, and a pool
// whose desired replicas differ from its Deployment is handed to the reconciler, which alone
// writes to the API. Readings are kept in memory; status.queue is refreshed when they change.

interface TrackedPool {
  key: string;
  namespace: string;
  name: string;
  /** Fingerprint of the queue spec and the Secrets' versions it was registered with. */
  registeredAs: string;
  endpoint: string | undefined;
  pollIntervalMs: number;
  pool: WorkerPool;
  state: ScalerState;
  decision: Decision | undefined;
  result: PoolReadResult | undefined;
  credentialsProblem: string | undefined;
  /** What status.queue last showed, so that an unchanged reading causes no write. */
  reportedFingerprint: string | undefined;
  /** Completions per second between the last two readings that counted them. */
  throughputPerSecond: number | undefined;
  lastCompletions: { atMs: number; total: number } | undefined;
}

export interface AutoscalerDeps {
  client: KubeClient;
  /** The Deployment a pool scales, from the informer cache. */
  deploymentOf: (pool: WorkerPool) => V1Deployment | undefined;
  /** Asks for a reconcile of the pool: the only path to an API write. */
  enqueue: (namespace: string, name: string) => void;
  metrics: OperatorMetrics;
  logger: Logger;
  now?: () => number;
  poller?: SignalPoller;
}

export class Autoscaler implements ReplicaAdvisor {
  readonly #deps: AutoscalerDeps;
  readonly #poller: SignalPoller;
  readonly #pools = new Map<string, TrackedPool>();
  readonly #timers = new Map<string, NodeJS.Timeout>();
  #stopped = false;

  constructor(deps: AutoscalerDeps) {
    this.#deps = deps;
    this.#poller = deps.poller ?? new SignalPoller();
  }

  #now(): number {
    return this.#deps.now?.() ?? Date.now();
  }

  async decide(pool: WorkerPool, currentReplicas: number | undefined): Promise<ReplicaDecision> {
    const tracked = await this.#track(pool);
    if (pool.spec.replicas !== undefined || pool.spec.paused || !tracked.decision) {
      // A pin or pause wins at once; before the first reading, hold what runs (or start at the minimum).
      const replicas = pool.spec.replicas !== undefined || pool.spec.paused ? staticReplicas(pool, currentReplicas) : (currentReplicas ?? pool.spec.scaling.minReplicas);
      return { replicas: clamp(replicas, pool) };
    }
    return { replicas: tracked.decision.desiredReplicas, reason: tracked.decision.reason };
  }

  observe(pool: WorkerPool): { queue?: QueueStatus; signals?: ConditionInput } {
    const tracked = this.#pools.get(keyOf(pool));
    if (!tracked) return {};
    if (tracked.credentialsProblem) {
      return { signals: { type: ConditionType.SignalsAvailable, status: 'False', reason: Reason.CredentialsUnavailable, message: tracked.credentialsProblem } };
    }
    const reported = tracked.result ? reportedReading(tracked.result, this.#now()) : undefined;
    const signals: ConditionInput =
      tracked.result === undefined
        ? { type: ConditionType.SignalsAvailable, status: 'Unknown', reason: Reason.SignalsPending, message: 'waiting for the first reading' }
        : tracked.result.ok
          ? { type: ConditionType.SignalsAvailable, status: 'True', reason: Reason.SignalsRead, message: `read ${pool.spec.queue.format} queue ${pool.spec.queue.names.join(', ')}` }
          : { type: ConditionType.SignalsAvailable, status: 'False', reason: Reason.SignalsReadFailed, message: tracked.result.error.message };
    if (!reported) return { signals };
    tracked.reportedFingerprint = fingerprint(reported.reading, reported.stale, tracked.decision);
    const reading = reported.reading;
    const queue: QueueStatus = {
      depth: reading.depth,
      dueScheduled: reading.dueScheduled,
      observedAt: new Date(reading.observedAtMs).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      stale: reported.stale,
    };
    if (reading.oldestJobAgeSeconds !== undefined) queue.oldestJobAgeSeconds = round(reading.oldestJobAgeSeconds);
    if (reading.latencyUnavailableReason) queue.latencyUnavailableReason = reading.latencyUnavailableReason;
    if (reading.busy !== undefined) queue.busy = reading.busy;
    if (reading.concurrency !== undefined) queue.concurrency = reading.concurrency;
    if (tracked.throughputPerSecond !== undefined) queue.throughputPerSecond = round(tracked.throughputPerSecond);
    return { queue, signals };
  }

  forget(key: string): void {
    const tracked = this.#pools.get(key);
    if (!tracked) return;
    this.#pools.delete(key);
    void this.#poller.unregister(key);
    if (tracked.endpoint) this.#reschedule(tracked.endpoint);
    for (const gauge of [this.#deps.metrics.queueDepth, this.#deps.metrics.queueOldestJobAgeSeconds, this.#deps.metrics.queueBusy, this.#deps.metrics.desiredReplicas]) {
      gauge.remove({ namespace: tracked.namespace, pool: tracked.name });
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    for (const timer of this.#timers.values()) clearTimeout(timer);
    this.#timers.clear();
    await this.#poller.close();
  }

  /** Registers the pool with the poller, again whenever its queue spec or its Secrets change. */
  async #track(pool: WorkerPool): Promise<TrackedPool> {
    const key = keyOf(pool);
    let tracked = this.#pools.get(key);
    if (!tracked) {
      tracked = {
        key,
        namespace: pool.metadata.namespace ?? '',
        name: pool.metadata.name ?? '',
        registeredAs: '',
        endpoint: undefined,
        pollIntervalMs: pool.spec.scaling.pollIntervalSeconds * 1000,
        pool,
        state: initialScalerState(),
        decision: undefined,
        result: undefined,
        credentialsProblem: undefined,
        reportedFingerprint: undefined,
        throughputPerSecond: undefined,
        lastCompletions: undefined,
      };
      this.#pools.set(key, tracked);
    }
    tracked.pool = pool;
    tracked.pollIntervalMs = pool.spec.scaling.pollIntervalSeconds * 1000;
    let secrets;
    try {
      secrets = await this.#readSecrets(pool);
    } catch (error) {
      tracked.credentialsProblem = `could not read the Redis credentials: ${apiMessage(error)}`;
      return tracked;
    }
    const registeredAs = JSON.stringify([pool.spec.queue, secrets.versions]);
    if (registeredAs !== tracked.registeredAs) {
      if (secrets.problem) {
        tracked.credentialsProblem = secrets.problem;
        return tracked;
      }
      const previousEndpoint = tracked.endpoint;
      try {
        tracked.endpoint = this.#poller.register(key, { queue: pool.spec.queue, credentials: secrets.credentials, tlsMaterial: secrets.tls });
      } catch (error) {
        tracked.credentialsProblem = error instanceof Error ? error.message : String(error);
        return tracked;
      }
      tracked.credentialsProblem = undefined;
      tracked.registeredAs = registeredAs;
      if (previousEndpoint && previousEndpoint !== tracked.endpoint) this.#reschedule(previousEndpoint);
    }
    if (tracked.endpoint) this.#reschedule(tracked.endpoint);
    return tracked;
  }

  async #readSecrets(pool: WorkerPool): Promise<{ credentials: RedisCredentials; tls: TlsMaterial | undefined; versions: string[]; problem?: string }> {
    const redis = pool.spec.queue.redis;
    const namespace = pool.metadata.namespace ?? '';
    const credentials: { password?: string; username?: string } = {};
    const versions: string[] = [];
    let problem: string | undefined;
    const read = async (field: string, ref: { name: string; key: string } | undefined) => {
      if (!ref) return undefined;
      const value = await this.#deps.client.readSecretValue(namespace, ref.name, ref.key);
      // Only a digest of the value takes part in the fingerprint: the value itself is kept by the poller alone.
      versions.push(`${field}:${ref.name}/${ref.key}:${value === undefined ? 'missing' : digest(value)}`);
      if (value === undefined) problem ??= `spec.queue.redis.${field}: Secret ${namespace}/${ref.name} has no key "${ref.key}" (or does not exist)`;
      return value;
    };
    const password = await read('passwordSecretRef', redis.passwordSecretRef);
    const username = await read('usernameSecretRef', redis.usernameSecretRef);
    const ca = await read('tls.caSecretRef', redis.tls?.caSecretRef);
    if (password !== undefined) credentials.password = password;
    if (username !== undefined) credentials.username = username;
    return { credentials: credentials satisfies RedisCredentials, tls: ca === undefined ? undefined : { ca }, versions, ...(problem ? { problem } : {}) };
  }

  /** One timer per endpoint, at the shortest poll interval of the pools it serves. */
  #reschedule(endpoint: string): void {
    if (this.#stopped) return;
    const intervals = [...this.#pools.values()].filter((p) => p.endpoint === endpoint && !p.credentialsProblem).map((p) => p.pollIntervalMs);
    if (intervals.length === 0) {
      clearTimeout(this.#timers.get(endpoint));
      this.#timers.delete(endpoint);
      return;
    }
    if (this.#timers.has(endpoint)) return;
    const tick = () => {
      this.#pollEndpoint(endpoint).then(
        () => {
          const next = [...this.#pools.values()].filter((p) => p.endpoint === endpoint).map((p) => p.pollIntervalMs);
          if (this.#stopped || next.length === 0) return void this.#timers.delete(endpoint);
          this.#timers.set(endpoint, setTimeout(tick, Math.min(...next)));
        },
        (error: unknown) => this.#deps.logger.error({ endpoint, err: String(error) }, 'poll loop failed'),
      );
    };
    this.#timers.set(endpoint, setTimeout(tick, 0));
  }

  async #pollEndpoint(endpoint: string): Promise<void> {
    const results = await this.#poller.pollEndpoint(endpoint);
    for (const [key, result] of results) {
      const tracked = this.#pools.get(key);
      if (tracked) this.#apply(tracked, result);
    }
  }

  #countThroughput(tracked: TrackedPool, reading: QueueReading): void {
    const total = reading.completedTotal;
    if (total === undefined) return;
    const last = tracked.lastCompletions;
    // A counter that went down was reset (a Redis flush): start counting again.
    if (last && reading.observedAtMs > last.atMs && total >= last.total) tracked.throughputPerSecond = ((total - last.total) * 1000) / (reading.observedAtMs - last.atMs);
    tracked.lastCompletions = { atMs: reading.observedAtMs, total };
  }

  /** Runs the engine on a fresh result and asks for a reconcile only when something would change. */
  #apply(tracked: TrackedPool, result: PoolReadResult): void {
    const { pool } = tracked;
    const labels = { namespace: tracked.namespace, pool: tracked.name };
    const metrics = this.#deps.metrics;
    tracked.result = result;
    metrics.signalsAvailable.set(labels, result.ok ? 1 : 0);
    if (result.ok) {
      metrics.queueDepth.set(labels, result.reading.depth);
      if (result.reading.oldestJobAgeSeconds !== undefined) metrics.queueOldestJobAgeSeconds.set(labels, result.reading.oldestJobAgeSeconds);
      if (result.reading.busy !== undefined) metrics.queueBusy.set(labels, result.reading.busy);
      this.#countThroughput(tracked, result.reading);
      if (tracked.throughputPerSecond !== undefined) metrics.queueThroughput.set(labels, tracked.throughputPerSecond);
    } else {
      metrics.signalReadErrors.inc({ ...labels, reason: result.error.kind });
    }
    const deployment = this.#deps.deploymentOf(pool);
    const current = deployment?.spec?.replicas ?? pool.spec.scaling.minReplicas;
    const decision = decideScale({
      nowMs: this.#now(),
      scaling: pool.spec.scaling,
      format: pool.spec.queue.format,
      pinnedReplicas: pool.spec.replicas,
      paused: pool.spec.paused,
      currentReplicas: current,
      readyReplicas: deployment?.status?.readyReplicas ?? 0,
      reading: result.ok ? result.reading : undefined,
      state: tracked.state,
    });
    tracked.state = decision.state;
    tracked.decision = decision;
    metrics.desiredReplicas.set(labels, decision.desiredReplicas);
    metrics.readyReplicas.set(labels, deployment?.status?.readyReplicas ?? 0);
    metrics.maxReplicas.set(labels, pool.spec.scaling.maxReplicas);
    metrics.targetLatencySeconds.set(labels, pool.spec.scaling.targetLatencySeconds);
    const reported = reportedReading(result, this.#now());
    const readingChanged = reported !== undefined && fingerprint(reported.reading, reported.stale, decision) !== tracked.reportedFingerprint;
    const signalsFlipped = (pool.status?.conditions?.find((c) => c.type === ConditionType.SignalsAvailable)?.status === 'True') !== result.ok;
    if (decision.desiredReplicas !== current) {
      metrics.scaleDecisions.inc({ ...labels, direction: decision.desiredReplicas > current ? 'up' : 'down', reason: decision.reasonCode });
      this.#deps.enqueue(tracked.namespace, tracked.name);
    } else if (readingChanged || signalsFlipped) {
      this.#deps.enqueue(tracked.namespace, tracked.name);
    }
  }
}

const keyOf = (pool: WorkerPool) => `${pool.metadata.namespace ?? ''}/${pool.metadata.name ?? ''}`;
const round = (value: number) => Math.round(value * 100) / 100;
const clamp = (replicas: number, pool: WorkerPool) =>
  pool.spec.replicas !== undefined ? replicas : Math.min(pool.spec.scaling.maxReplicas, Math.max(pool.spec.scaling.minReplicas, replicas));

/** What status.queue would show, at the precision it shows it: equal fingerprints mean no write. */
function fingerprint(reading: QueueReading, stale: boolean, decision: Decision | undefined): string {
  return JSON.stringify([reading.depth, reading.dueScheduled, reading.busy, reading.concurrency, reading.oldestJobAgeSeconds === undefined ? null : Math.round(reading.oldestJobAgeSeconds), stale, decision?.desiredReplicas]);
}

const digest = (value: string) => createHash('sha256').update(value).digest('hex').slice(0, 16);
