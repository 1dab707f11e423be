import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import type { KubeConfig, V1Deployment } from '@kubernetes/client-node';
import type { WorkerPool } from './api/workerpool-schema.ts';
import type { OperatorConfig } from './config.ts';
import { Controller } from './controller/controller.ts';
import { KubeClient } from './controller/kube-client.ts';
import { ConnectionReusingKubeConfig } from './controller/kube-config.ts';
import { Reconciler } from './controller/reconciler.ts';
import { scaleTargetClaim, targetDeploymentName } from './controller/scale-target.ts';
import { Autoscaler } from './autoscaler/autoscaler.ts';
import { nativeWorkerEnv } from './autoscaler/worker-env.ts';
import { LeaderElector } from './controller/leader-election.ts';
import type { RateLimiterOptions } from './controller/work-queue.ts';
import { startHttpServer } from './http-server.ts';
import type { Logger } from './logger.ts';
import { LoopWatchdog } from './loop-watchdog.ts';
import { createOperatorMetrics, type OperatorMetrics } from './metrics.ts';

export interface RunningOperator {
  controller: Controller;
  autoscaler: Autoscaler;
  metrics: OperatorMetrics;
  watchdog: LoopWatchdog;
  /** Where /metrics and the probes are served (the real ports when 0 was asked for). */
  addresses: { metrics: string; probes: string };
  /** Resolves when this instance starts acting: at once, or once it holds the leader lease. */
  leading: Promise<void>;
  /** Stops all work, then hands back the leader lease, then closes the HTTP servers. Safe to call twice. */
  stop(): Promise<void>;
}

export function loadKubeConfig(path: string | undefined): KubeConfig {
  const kubeConfig = new ConnectionReusingKubeConfig();
  if (path) kubeConfig.loadFromFile(path);
  else kubeConfig.loadFromDefault(); // in-cluster service account, else $KUBECONFIG / ~/.kube/config
  return kubeConfig;
}

export interface StartOptions {
  kubeConfig?: KubeConfig;
  /** Called when the leader lease is lost, after work has stopped; the process should exit so that it restarts clean. */
  onLeadershipLost?: () => void;
  /** The reconcile work queue's retry backoff; client-go's defaults when omitted. */
  reconcileBackoff?: RateLimiterOptions;
}

/** Wires the operator together and starts it: the composition root, with no logic of its own. */
export async function startOperator(
  config: OperatorConfig,
  logger: Logger,
  options: StartOptions = {},
): Promise<RunningOperator> {
  const kubeConfig = options.kubeConfig ?? loadKubeConfig(config.kubeconfig);
  const metrics = createOperatorMetrics();
  const watchdog = new LoopWatchdog();
  const controller = new Controller({
    kubeConfig,
    namespace: config.namespace,
    reconcileWorkers: config.reconcileWorkers,
    ...(options.reconcileBackoff ? { rateLimits: options.reconcileBackoff } : {}),
    logger,
    metrics,
    watchdog,
  });
  const client = new KubeClient(kubeConfig, metrics, config.identity);
  const deploymentOf = (pool: WorkerPool): V1Deployment | undefined =>
    controller.deployments.get(targetDeploymentName(pool), pool.metadata.namespace ?? '');
  const autoscaler = new Autoscaler({
    readSecretValue: (namespace, name, key) => client.readSecretValue(namespace, name, key),
    deploymentOf,
    enqueue: (namespace, name, priority) => controller.enqueue(namespace, name, priority),
    metrics,
    logger,
    watchdog,
    idleFirstScaleDown: config.idleFirstScaleDown,
    endpointPolicy: config.allowedRedisEndpoints,
  });
  controller.observePools(autoscaler);
  const reconciler = new Reconciler({
    client,
    decisions: autoscaler.decisions,
    cachedPool: (namespace, name) => controller.pools.get(name, namespace),
    deploymentOf,
    scaleTargetClaim: (pool) => {
      const namespace = pool.metadata.namespace ?? '';
      return scaleTargetClaim(pool, controller.pools.list(namespace), controller.autoscalers.list(namespace));
    },
    workerEnv: nativeWorkerEnv,
    logger,
  });
  const elector = config.leaderElection
    ? new LeaderElector({
        kubeConfig,
        namespace: config.leaderElection.namespace,
        name: config.leaderElection.leaseName,
        // Per process, as controller-runtime does: a container restarted in the same pod keeps the
        // pod name, and with that alone it would take a dead leader's Lease as its own at once,
        // before the lease ran out (the real-node leader-kill test caught it).
        identity: `${config.identity}_${randomUUID()}`,
        logger,
      })
    : undefined;
  let started = false;
  const servers: Server[] = [
    await startHttpServer(config.metricsAddress, { registry: metrics.registry }),
    await startHttpServer(config.healthProbeAddress, {
      // A standby is ready too: it serves probes and waits for the lease.
      probes: {
        livenessProblems: () => watchdog.stuck(),
        ready: () =>
          !started ||
          (controller.pools.hasSynced && controller.deployments.hasSynced && controller.autoscalers.hasSynced),
      },
    }),
  ];
  let working: Promise<void> | undefined;
  /** Work stops before the lease is given back, so that a standby never acts while we still write. */
  const stopWork = () =>
    (working ??= (async () => {
      if (started) await controller.stop();
      await autoscaler.stop();
      logger.info('operator stopped work');
    })());
  const leading = (async () => {
    if (elector) {
      await elector.acquire(() => {
        // At the renew deadline, a lease duration minus the renew deadline before a standby may
        // take over: nothing of ours may reach the API server after that, not even a write
        // already under way on a stalled connection. The loops then stop at their own pace.
        client.fence();
        metrics.isLeader.set(0);
        void stopWork().finally(() => options.onLeadershipLost?.());
      });
      metrics.isLeader.set(1);
    }
    started = true;
    await controller.start(reconciler);
    logger.info({ namespace: config.namespace ?? '(all)', identity: config.identity }, 'operator started');
  })();
  leading.catch(() => undefined); // stop() before leadership rejects it; whoever awaits it sees the error
  let stopping: Promise<void> | undefined;
  return {
    controller,
    autoscaler,
    metrics,
    watchdog,
    addresses: { metrics: addressOf(servers[0]), probes: addressOf(servers[1]) },
    leading,
    stop: () =>
      (stopping ??= (async () => {
        await stopWork();
        await elector?.release();
        metrics.isLeader.set(0);
        await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
        logger.info('operator stopped');
      })()),
  };
}

function addressOf(server: Server | undefined): string {
  const address = server?.address();
  return address && typeof address === 'object'
    ? `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}`
    : '';
}
