import type { Argv, CommandModule } from 'yargs';
import { ConfigError, LOG_LEVELS, parseOperatorConfig } from '../config.ts';
import { createLogger } from '../logger.ts';
import { startOperator } from '../operator.ts';

const RUN_FLAGS = [
  'kubeconfig',
  'namespace',
  'metrics-bind-address',
  'health-probe-bind-address',
  'log-level',
  'reconcile-workers',
  'identity',
  'leader-elect',
  'leader-election-namespace',
  'idle-first-scale-down',
  'allowed-redis-endpoints',
] as const;

/**
 * The documented variable of each flag (WORKERPOOL_LOG_LEVEL for --log-level), and no other. Not
 * yargs' env('WORKERPOOL'), which takes every WORKERPOOL_* variable: Kubernetes gives each pod
 * service links such as WORKERPOOL_OPERATOR_METRICS_PORT for the install's own metrics Service,
 * and strict parsing then refused them as unknown arguments, so the operator pod crash-looped.
 */
export function flagsFromEnv(env: NodeJS.ProcessEnv): Record<string, string> {
  const flags: Record<string, string> = {};
  for (const flag of RUN_FLAGS) {
    const value = env[`WORKERPOOL_${flag.toUpperCase().replaceAll('-', '_')}`];
    if (value !== undefined && value !== '') flags[flag] = value;
  }
  return flags;
}

const options = (yargs: Argv) =>
  yargs
    .config(flagsFromEnv(process.env))
    .option('kubeconfig', {
      type: 'string',
      describe:
        'Path of a kubeconfig file (default: in-cluster, then $KUBECONFIG, then ~/.kube/config). Env: WORKERPOOL_KUBECONFIG',
    })
    .option('namespace', {
      type: 'string',
      describe: 'Manage WorkerPools of this namespace only (default: all namespaces). Env: WORKERPOOL_NAMESPACE',
    })
    .option('metrics-bind-address', {
      type: 'string',
      default: ':8080',
      describe: 'Where /metrics is served. Env: WORKERPOOL_METRICS_BIND_ADDRESS',
    })
    .option('health-probe-bind-address', {
      type: 'string',
      default: ':8081',
      describe: 'Where /healthz and /readyz are served. Env: WORKERPOOL_HEALTH_PROBE_BIND_ADDRESS',
    })
    .option('log-level', {
      type: 'string',
      default: 'info',
      describe: `One of ${LOG_LEVELS.join(', ')}. Env: WORKERPOOL_LOG_LEVEL`,
    })
    .option('reconcile-workers', {
      type: 'number',
      default: 4,
      describe: 'Reconciles running at once. Env: WORKERPOOL_RECONCILE_WORKERS',
    })
    .option('identity', {
      type: 'string',
      describe: 'Name in Events and on the leader lease (default: $POD_NAME). Env: WORKERPOOL_IDENTITY',
    })
    .option('leader-elect', {
      type: 'boolean',
      default: false,
      describe: 'Run as one of several replicas: only the holder of a Lease acts. Env: WORKERPOOL_LEADER_ELECT',
    })
    .option('idle-first-scale-down', {
      type: 'boolean',
      default: true,
      describe:
        'Before a scale-down, set pod-deletion-cost from worker heartbeats so that idle pods go first (needs pods list and patch). Env: WORKERPOOL_IDLE_FIRST_SCALE_DOWN',
    })
    .option('allowed-redis-endpoints', {
      type: 'string',
      describe:
        'Comma-separated Redis hosts pools may name: host names, *.domain wildcards, IP addresses, CIDRs (default: any). A pool naming another host is refused with SignalsAvailable=False, reason EndpointNotAllowed. Env: WORKERPOOL_ALLOWED_REDIS_ENDPOINTS',
    })
    .option('leader-election-namespace', {
      type: 'string',
      describe:
        'Namespace of the leader Lease (default: $POD_NAMESPACE, else --namespace). Env: WORKERPOOL_LEADER_ELECTION_NAMESPACE',
    });

type RunArgs = ReturnType<typeof options> extends Argv<infer T> ? T : never;

export const runCommand: CommandModule<object, RunArgs> = {
  command: 'run',
  describe: 'Run the operator: reconcile WorkerPools and scale their workers',
  builder: options,
  handler: async (args) => {
    let config;
    try {
      config = parseOperatorConfig({
        kubeconfig: args.kubeconfig,
        namespace: args.namespace,
        metricsBindAddress: args['metrics-bind-address'],
        healthProbeBindAddress: args['health-probe-bind-address'],
        logLevel: args['log-level'],
        reconcileWorkers: args['reconcile-workers'],
        identity: args.identity ?? process.env['POD_NAME'],
        leaderElect: args['leader-elect'],
        leaderElectionNamespace: args['leader-election-namespace'] ?? process.env['POD_NAMESPACE'],
        idleFirstScaleDown: args['idle-first-scale-down'],
        allowedRedisEndpoints: args['allowed-redis-endpoints'],
      });
    } catch (error) {
      if (error instanceof ConfigError) {
        console.error(`workerpool-operator: ${error.message}`);
        process.exitCode = 2;
        return;
      }
      throw error;
    }
    const logger = createLogger(config.logLevel);
    const operator = await startOperator(config, logger, {
      onLeadershipLost: () => {
        // Another replica may already be acting: stop at once and let Kubernetes restart us as a standby.
        void operator.stop().finally(() => process.exit(1));
      },
    });
    // Only the entry point handles signals; the operator itself just offers stop().
    const shutdown = (signal: NodeJS.Signals) => {
      logger.info({ signal }, 'shutting down');
      operator.stop().then(
        () => process.exit(0),
        (error: unknown) => {
          logger.error({ err: String(error) }, 'shutdown failed');
          process.exit(1);
        },
      );
    };
    process.once('SIGTERM', shutdown);
    process.once('SIGINT', shutdown);
  },
};
