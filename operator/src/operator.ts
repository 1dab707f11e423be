import type { Server } from 'node:http';
import { KubeConfig } from '@kubernetes/client-node';
import type { OperatorConfig } from './config.ts';
import { Controller } from './controller/controller.ts';
import { KubeClient } from './controller/kube-client.ts';
import { Reconciler } from './controller/reconciler.ts';
import { Autoscaler } from './autoscaler/autoscaler.ts';
import { nativeWorkerEnv } from './autoscaler/worker-env.ts';
import { LeaderElector } from './controller/leader-election.ts';
import { staticAdvisor, type ReplicaAdvisor } from './controller/replica-advisor.ts';
import { startHttpServer } from './http-server.ts';
import type { Logger } from './logger.ts';
import { createOperatorMetrics, type OperatorMetrics } from './metrics.ts';

export interface RunningOperator {
  controller: Controller;
  metrics: OperatorMetrics;
  /** Where /metrics and the probes are served (the real ports when 0 was asked for). */
  addresses: { metrics: string; probes: string };
  /** Resolves when this instance starts acting: at once, or once it holds the leader lease. */
  leading: Promise<void>;
  /** Stops watching, lets running reconciles finish, and closes the HTTP servers. Safe to call twice. */
  stop(): Promise<void>;
}

export function loadKubeConfig(path: string | undefined): KubeConfig {
  const kubeConfig = new KubeConfig();
  if (path) kubeConfig.loadFromFile(path);
  else kubeConfig.loadFromDefault(); // in-cluster service account, else $KUBECONFIG / ~/.kube/config
  return kubeConfig;
}

/** Wires the operator together and starts it: the composition root, with no logic of its own. */
export interface StartOptions {
  kubeConfig?: KubeConfig;
  advisor?: ReplicaAdvisor;
  /** Called when the leader lease is lost; the process should exit so that it restarts clean. */
  onLeadershipLost?: () => void;
}

export async function startOperator(config: OperatorConfig, logger: Logger, options: StartOptions = {}): Promise<RunningOperator> {
  const kubeConfig = options.kubeConfig ?? loadKubeConfig(config.kubeconfig);
  const metrics = createOperatorMetrics();
  const controller = new Controller({ kubeConfig, namespace: config.namespace, reconcileWorkers: config.reconcileWorkers, logger, metrics });
  const client = new KubeClient(kubeConfig, metrics, config.identity);
  const autoscaler = options.advisor
    ? undefined
    : new Autoscaler({
        client,
        deploymentOf: (pool) => controller.deployments.get(pool.spec.scaleTargetRef?.name ?? pool.metadata.name ?? '', pool.metadata.namespace ?? ''),
        enqueue: (namespace, name) => controller.enqueue(namespace, name),
        metrics,
        logger,
      });
  const reconciler = new Reconciler({
    client,
    advisor: options.advisor ?? autoscaler ?? staticAdvisor,
    cachedDeployment: (namespace, name) => controller.deployments.get(name, namespace),
    workerEnv: nativeWorkerEnv,
    logger,
  });
  const elector = config.leaderElection
    ? new LeaderElector({ kubeConfig, namespace: config.leaderElection.namespace, name: config.leaderElection.leaseName, identity: config.identity, logger })
    : undefined;
  let started = false;
  const servers: Server[] = [
    await startHttpServer(config.metricsAddress, { registry: metrics.registry }),
    await startHttpServer(config.healthProbeAddress, {
      // A standby is ready too: it serves probes and waits for the lease.
      probes: { healthy: () => true, ready: () => !started || (controller.pools.hasSynced && controller.deployments.hasSynced) },
    }),
  ];
  const leading = (async () => {
    if (elector) {
      await elector.acquire(() => options.onLeadershipLost?.());
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
    metrics,
    addresses: { metrics: addressOf(servers[0]), probes: addressOf(servers[1]) },
    leading,
    stop: () =>
      (stopping ??= (async () => {
        await elector?.release();
        metrics.isLeader.set(0);
        if (started) await controller.stop();
        await autoscaler?.stop();
        await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
        logger.info('operator stopped');
      })()),
  };
}

function addressOf(server: Server | undefined): string {
  const address = server?.address();
  return address && typeof address === 'object' ? `http://${address.family === 'IPv6' ? `[${address.address}]` : address.address}:${address.port}` : '';
}
