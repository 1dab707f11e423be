import type { V1Deployment } from '@kubernetes/client-node';
import type { WorkerPool } from '../api/workerpool-schema.ts';
import type { ScaleDecisions } from '../controller/scale-decisions.ts';
import type { DeploymentOf } from '../controller/scale-target.ts';
import type { Priority } from '../controller/work-queue.ts';
import type { Logger } from '../logger.ts';
import type { LoopWatchdog } from '../loop-watchdog.ts';
import type { OperatorMetrics, PoolGaugeValues } from '../metrics.ts';
import {
  SCALE_REASONS,
  decideScale,
  initialScalerState,
  type Decision,
  type ScaleInput,
  type ScalerState,
} from '../scaling/index.ts';
import type { EndpointPolicy } from '../signals/endpoint-policy.ts';
import { SignalPoller, reportedReading, type PoolReadResult, type QueueReading } from '../signals/index.ts';
import type { ConditionInput } from '../controller/conditions.ts';
import { oversizedTemplate, withTemplate } from '../controller/packed-template.ts';
import type { DrainView } from '../controller/scale-decisions.ts';
import { quietCommands } from '../signals/index.ts';
import { countThroughput, type Throughput } from './throughput.ts';
import { DecisionStore } from './decision-store.ts';
import { PoolDrain, type QuietTarget } from './drain-coordinator.ts';
import { drainSettingsOf, gracePeriodCondition, type DrainSettings } from './drain-settings.ts';
import type { ReadSecretValue } from './pool-credentials.ts';
import { PoolRegistry } from './pool-registry.ts';
import { PollScheduler } from './poll-scheduler.ts';
import {
  forecastStatusOf,
  idleFirstCondition,
  nextPublished,
  queueStatusOf,
  seasonalModelOf,
  signalsCondition,
  type Published,
} from './status-publisher.ts';

// The operator's autoscaling loop, from a reading to a decision the reconciler can act on:
//   informer event -> PoolRegistry (Secrets, poller registration) -> PollScheduler (one timer per
//   endpoint) -> SignalPoller (one round trip per endpoint) -> decideScale -> status publisher
//   -> DecisionStore -> a wake-up of the reconciler, which reads the store and alone writes to the API.
// Nothing here waits on a reconcile, and nothing the reconciler does comes back here.

/** What the loop keeps of one pool between polls. */
interface PoolLoop {
  namespace: string;
  name: string;
  pool: WorkerPool;
  /** The input of the latest decision: replayed with the new spec when the spec changes between polls. */
  lastInput: ScaleInput | undefined;
  decision: Decision | undefined;
  decidedGeneration: number | undefined;
  result: PoolReadResult | undefined;
  published: Published | undefined;
  throughput: Throughput;
  /** Drain before delete's pods (drain-coordinator.ts); empty while drain does not apply. */
  drain: PoolDrain;
  /** The Deployment's replicas: the decision plus pods still draining. */
  replicas: number | undefined;
  drainView: DrainView | undefined;
  /**
   * Why the engine last chose to serve with fewer pods. A drained scale-down lands polls later,
   * when the engine is holding: the Deployment's drop is recorded under this reason, not that one.
   */
  scaleDownReason: string | undefined;
  /** How the pool's pods leave, worked out from its pod template once per spec and Deployment version. */
  podExit: PodExit | undefined;
}

/** What drain and the GracePeriod condition read of a pod template, which the caches keep packed. */
interface PodExit {
  /** The pool's and the Deployment's generations it was worked out for. */
  version: string;
  settings: DrainSettings;
  gracePeriod: ConditionInput;
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
  /** The Redis hosts pools may name (--allowed-redis-endpoints); undefined allows any. */
  endpointPolicy?: EndpointPolicy | undefined;
}

export class Autoscaler {
  readonly #deps: AutoscalerDeps;
  readonly #poller: SignalPoller;
  readonly #scheduler: PollScheduler;
  readonly #registry: PoolRegistry;
  readonly #store = new DecisionStore();
  readonly #pools = new Map<string, PoolLoop>();
  #stopped = false;

  constructor(deps: AutoscalerDeps) {
    this.#deps = deps;
    this.#poller = deps.poller ?? new SignalPoller();
    this.#scheduler = new PollScheduler({
      poll: (endpoint) => this.#pollEndpoint(endpoint),
      onPollFailed: (endpoint, error) => deps.logger.error({ endpoint, err: String(error) }, 'poll failed'),
      watchdog: deps.watchdog,
    });
    this.#registry = new PoolRegistry({
      poller: this.#poller,
      scheduler: this.#scheduler,
      readSecretValue: deps.readSecretValue,
      endpointPolicy: deps.endpointPolicy,
      logger: deps.logger,
      secretRetryMs: deps.secretRetryMs,
      onRegistrationSettled: (key) => this.#registrationSettled(key),
    });
    deps.metrics.readPoolGaugesFrom(() => this.#gaugeValues());
  }

  /** Where the reconciler reads each pool's latest decision. */
  get decisions(): ScaleDecisions {
    return this.#store;
  }

  /**
   * The informer saw a pool, new or changed. A new spec is decided at once by the same engine (a
   * pin, a pause, new limits, or the first decision before any reading), before the reconcile the
   * same event asks for, so the reconciler always finds a decision for the generation it reads.
   */
  poolChanged(pool: WorkerPool): void {
    if (this.#stopped) return;
    const key = keyOf(pool);
    let loop = this.#pools.get(key);
    if (!loop) {
      loop = {
        namespace: pool.metadata.namespace ?? '',
        name: pool.metadata.name ?? '',
        pool,
        lastInput: undefined,
        decision: undefined,
        decidedGeneration: undefined,
        result: undefined,
        published: undefined,
        throughput: { perSecond: undefined, last: undefined },
        drain: new PoolDrain(),
        replicas: undefined,
        drainView: undefined,
        podExit: undefined,
        scaleDownReason: undefined,
      };
      this.#pools.set(key, loop);
      this.#startScaleDecisionSeries(loop);
    }
    loop.pool = pool;
    this.#registry.observe(key, pool);
    if (loop.decision !== undefined && loop.decidedGeneration === pool.metadata.generation) return;
    const base = loop.lastInput ?? { nowMs: this.#now(), reading: undefined, state: restoredState(pool) };
    const deployment = this.#deps.deploymentOf(pool);
    const { settings } = this.#podExit(loop, deployment);
    if (!settings.enabled) loop.drain = new PoolDrain();
    const spec = specInput(pool, deployment);
    const view = loop.drain.engineView(base.reading, spec.currentReplicas, spec.readyReplicas);
    const decision = this.#decide(loop, { ...base, ...spec, ...view });
    // No new pod is chosen on a spec change, but the latest reading still says which pods report workers.
    const latest = loop.result?.ok ? loop.result.reading : loop.result?.lastGood;
    this.#drainStage(key, loop, decision, settings, latest, spec.currentReplicas);
    this.#publish(key, loop);
  }

  /** The pool is gone: it is read no more, and its gauges and decision go with it. */
  poolDeleted(namespace: string, name: string): void {
    const key = `${namespace}/${name}`;
    this.#pools.delete(key);
    this.#store.delete(key);
    this.#registry.remove(key);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#scheduler.stop();
    this.#registry.stop();
    await this.#poller.close();
  }

  #now(): number {
    return this.#deps.now?.() ?? Date.now();
  }

  /**
   * A pool that never scaled shows 0 in both directions rather than no series: `increase()` and
   * alerts then see its first change, and a dashboard shows 0, not "no data". The reason is empty
   * (no decision yet), which PromQL reads as no reason label.
   */
  #startScaleDecisionSeries(loop: PoolLoop): void {
    for (const direction of ['up', 'down'])
      this.#deps.metrics.scaleDecisions.inc({ namespace: loop.namespace, pool: loop.name, direction, reason: '' }, 0);
  }

  #registrationSettled(key: string): void {
    const loop = this.#pools.get(key);
    if (!loop || this.#stopped) return;
    // A reading of a queue the pool no longer names must not be shown or decided on.
    if (this.#registry.registration(key)?.registeredQueueKey === undefined) loop.result = undefined;
    if (this.#publish(key, loop)) this.#deps.enqueue(loop.namespace, loop.name);
  }

  async #pollEndpoint(endpoint: string): Promise<void> {
    const results = await this.#poller.pollEndpoint(endpoint);
    this.#deps.metrics.signalPolls.inc();
    for (const [key, result] of results) {
      const loop = this.#pools.get(key);
      if (loop && !this.#stopped) this.#applyReading(key, loop, result);
    }
  }

  /** Runs the engine on a fresh result and wakes the reconciler only when something would change. */
  #applyReading(key: string, loop: PoolLoop, result: PoolReadResult): void {
    loop.result = result;
    const labels = { namespace: loop.namespace, pool: loop.name };
    if (result.ok) {
      loop.throughput = countThroughput(loop.throughput, result.reading, loop.pool.spec.queue.format);
      this.#registry.readSucceeded(key);
    } else {
      this.#deps.metrics.signalReadErrors.inc({ ...labels, reason: result.error.kind });
      this.#registry.readFailed(key, result.error.kind);
    }
    const nowMs = this.#now();
    const deployment = this.#deps.deploymentOf(loop.pool);
    const spec = specInput(loop.pool, deployment);
    const { settings } = this.#podExit(loop, deployment);
    const reading = result.ok ? result.reading : undefined;
    if (settings.enabled) {
      const timedOut = loop.drain.observe(reading, spec.currentReplicas, nowMs, settings.deadlineSeconds * 1000);
      if (timedOut.length > 0) {
        this.#deps.metrics.drainDeadlineExceeded.inc(labels, timedOut.length);
        this.#deps.logger.warn({ pool: key, pods: timedOut }, 'drain deadline passed: pods removed with jobs running');
      }
    } else loop.drain = new PoolDrain();
    // The engine sizes the serving pods: those asked to drain are not capacity (drain-coordinator.ts).
    const view = loop.drain.engineView(reading, spec.currentReplicas, spec.readyReplicas);
    const input: ScaleInput = {
      nowMs,
      state: loop.decision?.state ?? restoredState(loop.pool),
      ...spec,
      ...view,
    };
    const previous = loop.decision?.desiredReplicas;
    const decision = this.#decide(loop, input);
    const replicas = this.#drainStage(key, loop, decision, settings, reading, spec.currentReplicas);
    if (decision.desiredReplicas !== previous) {
      this.#deps.logger.info(
        { pool: key, from: input.currentReplicas, to: decision.desiredReplicas, reason: decision.reason },
        'scale decision',
      );
    }
    const published = this.#publish(key, loop);
    if (replicas !== spec.currentReplicas) {
      this.#deps.metrics.scaleDecisions.inc({
        ...labels,
        direction: replicas > spec.currentReplicas ? 'up' : 'down',
        reason: decision.reasonCode,
      });
      this.#deps.enqueue(loop.namespace, loop.name);
    } else if (published) this.#deps.enqueue(loop.namespace, loop.name, 'low');
  }

  /**
   * Drain before delete (drain-coordinator.ts): from the engine's serving replicas to the
   * Deployment's, sending the quiet requests of newly chosen pods. Returns the Deployment's replicas.
   */
  #drainStage(
    key: string,
    loop: PoolLoop,
    decision: Decision,
    settings: DrainSettings,
    reading: QueueReading | undefined,
    liveReplicas: number,
  ): number {
    if (!settings.enabled) {
      loop.replicas = decision.desiredReplicas;
      loop.drainView = undefined;
      return loop.replicas;
    }
    const plan = loop.drain.plan(decision.desiredReplicas, reading, liveReplicas, this.#now(), {
      paused: decision.reasonCode === SCALE_REASONS.paused,
    });
    loop.replicas = plan.replicas;
    loop.drainView = {
      drained: plan.drained,
      timedOut: plan.timedOut,
      unasked: plan.unasked,
      draining: plan.draining,
      reported: plan.reported,
    };
    if (plan.quiet.length > 0) void this.#sendQuiet(key, loop, plan.quiet, settings);
    return plan.replicas;
  }

  /** One request per worker; one that fails is sent again with the next plan. */
  async #sendQuiet(
    key: string,
    loop: PoolLoop,
    targets: readonly QuietTarget[],
    settings: DrainSettings,
  ): Promise<void> {
    const labels = { namespace: loop.namespace, pool: loop.name };
    // A native request outlives the drain deadline, so a worker that reads it late still drains.
    const ttlSeconds = settings.deadlineSeconds + QUIET_REQUEST_MARGIN_SECONDS;
    await Promise.all(
      targets.map(async (target) => {
        const commands = quietCommands(loop.pool.spec.queue.format, target.quietKey, ttlSeconds);
        if (!commands) return;
        try {
          await this.#poller.sendQuiet(key, commands);
          this.#deps.metrics.drainRequests.inc(labels);
          this.#deps.logger.info(
            { pool: key, pod: target.pod },
            'asked a worker to stop taking jobs before its pod goes',
          );
        } catch (error) {
          loop.drain.quietFailed(target);
          this.#deps.logger.warn(
            { pool: key, pod: target.pod, err: String(error) },
            'quiet request failed; sent again next poll',
          );
        }
      }),
    );
  }

  /**
   * Drain settings and the GracePeriod condition come from the pod template (grace period, the
   * worker's shutdown flags), which the informer caches keep packed (packed-template.ts): it is
   * unpacked only when the pool's spec or its Deployment changed, not on every poll.
   */
  #podExit(loop: PoolLoop, deployment: V1Deployment | undefined): PodExit {
    const version = `${loop.pool.metadata.generation ?? ''}/${deployment?.metadata?.generation ?? ''}`;
    if (loop.podExit?.version === version) return loop.podExit;
    const podAccess = this.#deps.idleFirstScaleDown !== false;
    // A template above the bound is not kept (the reconciler stalls the pool): read as if absent.
    const pool =
      oversizedTemplate(loop.pool.spec.template) === undefined
        ? withTemplate(loop.pool)
        : { ...loop.pool, spec: { ...loop.pool.spec, template: undefined } };
    const live = deployment && withTemplate(deployment);
    loop.podExit = {
      version,
      settings: drainSettingsOf(pool, live, podAccess),
      gracePeriod: gracePeriodCondition(pool, live, podAccess),
    };
    return loop.podExit;
  }

  #decide(loop: PoolLoop, input: ScaleInput): Decision {
    const decision = decideScale(input);
    if (decision.desiredReplicas < input.currentReplicas) loop.scaleDownReason = decision.reason;
    loop.lastInput = input;
    loop.decision = decision;
    loop.decidedGeneration = loop.pool.metadata.generation;
    return decision;
  }

  /**
   * Advances what status shows when a write is due (the one rule: status-publisher.ts), and puts
   * the latest decision where the reconciler reads it. True when what status shows changed.
   */
  #publish(key: string, loop: PoolLoop): boolean {
    const decision = loop.decision;
    if (!decision) return false;
    const nowMs = this.#now();
    const idleFirst = this.#deps.idleFirstScaleDown !== false;
    const podExit = this.#podExit(loop, this.#deps.deploymentOf(loop.pool));
    const conditions = [
      signalsCondition(loop.pool, loop.result, this.#registry.registration(key)?.problem),
      idleFirstCondition(loop.pool, idleFirst, podExit.settings),
      podExit.gracePeriod,
    ];
    const replicas = loop.replicas ?? decision.desiredReplicas;
    const liveReplicas = this.#deps.deploymentOf(loop.pool)?.spec?.replicas;
    const drainedScaleDown = loop.drainView !== undefined && liveReplicas !== undefined && replicas < liveReplicas;
    const reason = drainedScaleDown ? (loop.scaleDownReason ?? decision.reason) : decision.reason;
    const queueOf = () => {
      const reported = loop.result ? reportedReading(loop.result, nowMs) : undefined;
      return reported ? queueStatusOf(reported, loop.throughput.perSecond) : undefined;
    };
    const published = nextPublished(loop.published, { conditions, desiredReplicas: replicas }, queueOf, nowMs, () =>
      forecastStatusOf(decision.state.seasonal, nowMs),
    );
    if (published) loop.published = published;
    this.#store.put(key, {
      generation: loop.decidedGeneration,
      decision,
      replicas,
      reason,
      drain: loop.drainView,
      published: loop.published as Published,
      busyFrom: idleFirst && loop.result?.ok ? loop.result.reading : undefined,
    });
    return published !== undefined;
  }

  /** What each pool's gauges show when Prometheus scrapes: its latest reading and decision. */
  *#gaugeValues(): Iterable<PoolGaugeValues> {
    for (const loop of this.#pools.values()) {
      const { result, pool } = loop;
      const reading = result === undefined ? undefined : result.ok ? result.reading : result.lastGood;
      // Spec and Deployment gauges appear with the first poll, as the readings do.
      const polled = result !== undefined;
      yield {
        namespace: loop.namespace,
        pool: loop.name,
        queueDepth: reading?.depth,
        queueOldestJobAgeSeconds: reading?.oldestJobAgeSeconds,
        queueBusy: reading?.busy,
        queueUnreadableHeartbeats: reading === undefined ? undefined : (reading.unreadableHeartbeats?.count ?? 0),
        queueThroughput: loop.throughput.perSecond,
        signalsAvailable: polled ? (result.ok ? 1 : 0) : undefined,
        desiredReplicas: loop.decision?.desiredReplicas,
        readyReplicas: polled ? (this.#deps.deploymentOf(pool)?.status?.readyReplicas ?? 0) : undefined,
        maxReplicas: polled ? pool.spec.scaling.maxReplicas : undefined,
        targetLatencySeconds: polled ? pool.spec.scaling.targetLatencySeconds : undefined,
        forecastArrivalRate: loop.decision?.signals?.forecastArrivalRatePerSecond,
        forecastErrorRatio: loop.decision?.signals?.forecastErrorRatio,
      };
    }
  }
}

/** Seconds a native drain request outlives the drain deadline. */
const QUIET_REQUEST_MARGIN_SECONDS = 60;

/** A pool's first state: with the arrival pattern a previous operator kept in status, while predictive is not off. */
function restoredState(pool: WorkerPool): ScalerState {
  const state = initialScalerState();
  if (pool.spec.scaling.predictive === 'disabled') return state;
  const seasonal = seasonalModelOf(pool.status?.forecast);
  return seasonal === undefined ? state : { ...state, seasonal };
}

const keyOf = (pool: WorkerPool) => `${pool.metadata.namespace ?? ''}/${pool.metadata.name ?? ''}`;

function specInput(
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

/** Completions per second from the pool's own completion counter, where the format keeps one. */
