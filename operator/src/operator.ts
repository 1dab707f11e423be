import type { Server } from 'node:http';
import { KubeConfig } from '@kubernetes/client-node';
import type { OperatorConfig } from './config.ts';
import { Controller } from './controller/controller.ts';
import { KubeClient } from './controller/kube-client.ts';
import { Reconciler } from './controller/reconciler.ts';
import { staticAdvisor, type ReplicaAdvisor } from './controller/replica-advisor.ts';
import { startHttpServer } from './http-server.ts';
import type { Logger } from './logger.ts';
import { createOperatorMetrics, type OperatorMetrics } from './metrics.ts';

export interface RunningOperator {
  controller: Controller;
  metrics: OperatorMetrics;
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
export async function startOperator(config: OperatorConfig, logger: Logger, options: { kubeConfig?: KubeConfig; advisor?: ReplicaAdvisor } = {}): Promise<RunningOperator> {
  const kubeConfig = options.kubeConfig ?? loadKubeConfig(config.kubeconfig);
  const metrics = createOperatorMetrics();
  const controller = new Controller({ kubeConfig, namespace: config.namespace, reconcileWorkers: config.reconcileWorkers, logger, metrics });
  const reconciler = new Reconciler({
    client: new KubeClient(kubeConfig, metrics, config.identity),
    advisor: options.advisor ?? staticAdvisor,
    cachedDeployment: (namespace, name) => controller.deployments.get(name, namespace),
    workerEnv: () => [],
    logger,
  });
  const servers: Server[] = [
    await startHttpServer(config.metricsAddress, { registry: metrics.registry }),
    await startHttpServer(config.healthProbeAddress, {
      probes: { healthy: () => true, ready: () => controller.pools.hasSynced && controller.deployments.hasSynced },
    }),
  ];
  await controller.start(reconciler);
  logger.info({ namespace: config.namespace ?? '(all)', metrics: config.metricsAddress, probes: config.healthProbeAddress }, 'operator started');
  let stopping: Promise<void> | undefined;
  return {
    controller,
    metrics,
    stop: () =>
      (stopping ??= (async () => {
        await controller.stop();
        await Promise.all(servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))));
        logger.info('operator stopped');
      })()),
  };
}
