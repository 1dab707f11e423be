import type { KubeConfig } from '@kubernetes/client-node';
import { parseOperatorConfig } from '../config.ts';
import { createLogger } from '../logger.ts';
import { startOperator, type RunningOperator, type StartOptions } from '../operator.ts';

/** Starts the real operator in this process, limited to one namespace, on free ports. */
export async function startOperatorForNamespace(
  kubeConfig: KubeConfig,
  namespace: string,
  options: {
    logStream?: NodeJS.WritableStream;
    leaderElection?: { namespace: string };
    idleFirstScaleDown?: boolean;
    reconcileBackoff?: StartOptions['reconcileBackoff'];
    onLeadershipLost?: StartOptions['onLeadershipLost'];
  } = {},
): Promise<RunningOperator> {
  const config = parseOperatorConfig({
    namespace,
    metricsBindAddress: '127.0.0.1:0',
    healthProbeBindAddress: '127.0.0.1:0',
    logLevel: 'error',
    reconcileWorkers: 2,
    identity: 'operator-under-test',
    ...(options.leaderElection ? { leaderElect: true, leaderElectionNamespace: options.leaderElection.namespace } : {}),
    ...(options.idleFirstScaleDown === undefined ? {} : { idleFirstScaleDown: options.idleFirstScaleDown }),
  });
  const logger = options.logStream ? createLogger('debug', options.logStream) : createLogger('error');
  return startOperator(config, logger, {
    kubeConfig,
    ...(options.reconcileBackoff ? { reconcileBackoff: options.reconcileBackoff } : {}),
    ...(options.onLeadershipLost ? { onLeadershipLost: options.onLeadershipLost } : {}),
  });
}
