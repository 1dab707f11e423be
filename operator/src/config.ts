import { EndpointPolicyError, parseEndpointPolicy, type EndpointPolicy } from './signals/endpoint-policy.ts';

// The operator's configuration, parsed once from flags and environment into a typed, checked
// object. Every other module receives this object; none reads process.env itself.

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface OperatorConfig {
  /** Path of a kubeconfig file; undefined means in-cluster, then the default kubeconfig. */
  kubeconfig: string | undefined;
  /** Watch and manage WorkerPools of this namespace only; undefined means all namespaces. */
  namespace: string | undefined;
  metricsAddress: ListenAddress;
  healthProbeAddress: ListenAddress;
  logLevel: LogLevel;
  /** Reconciles running at once. */
  reconcileWorkers: number;
  /** Name under which this instance writes Events and holds the leader lease (the pod name in a cluster). */
  identity: string;
  /** Before a scale-down, mark the pods running the fewest jobs for removal first (pods list + patch). */
  idleFirstScaleDown: boolean;
  /** When set, only the holder of this Lease acts; other replicas stand by. */
  leaderElection: { namespace: string; leaseName: string } | undefined;
  /** The Redis hosts pools may name; undefined allows any (the platform team sets it). */
  allowedRedisEndpoints: EndpointPolicy | undefined;
}

export interface ListenAddress {
  host: string;
  port: number;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Parses `host:port`, `:port` or `0` (disabled is not allowed: probes and metrics are always served). */
export function parseListenAddress(flag: string, value: string): ListenAddress {
  const match = /^(?<host>[^\s:]*|\[[0-9a-fA-F:]+\]):(?<port>\d{1,5})$/.exec(value.trim());
  const port = Number(match?.groups?.['port']);
  if (!match || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new ConfigError(
      `--${flag}: "${value}" is not a listen address; expected host:port or :port, for example :8080`,
    );
  }
  const host = match.groups?.['host'] || '0.0.0.0';
  return { host: host.replace(/^\[|\]$/g, ''), port };
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

export interface RawOperatorOptions {
  kubeconfig?: string | undefined;
  namespace?: string | undefined;
  metricsBindAddress: string;
  healthProbeBindAddress: string;
  logLevel: string;
  reconcileWorkers: number;
  identity?: string | undefined;
  leaderElect?: boolean;
  leaderElectionNamespace?: string | undefined;
  idleFirstScaleDown?: boolean;
  /** Comma-separated host names, *.domain wildcards, IP addresses and CIDRs. */
  allowedRedisEndpoints?: string | undefined;
}

export function parseOperatorConfig(raw: RawOperatorOptions): OperatorConfig {
  if (!(LOG_LEVELS as readonly string[]).includes(raw.logLevel)) {
    throw new ConfigError(`--log-level: "${raw.logLevel}" is not one of ${LOG_LEVELS.join(', ')}`);
  }
  const namespace = raw.namespace?.trim() || undefined;
  if (namespace !== undefined && (namespace.length > 63 || !DNS_LABEL.test(namespace))) {
    throw new ConfigError(
      `--namespace: "${namespace}" is not a valid namespace name (lower-case letters, digits and '-', at most 63)`,
    );
  }
  if (!Number.isInteger(raw.reconcileWorkers) || raw.reconcileWorkers < 1 || raw.reconcileWorkers > 64) {
    throw new ConfigError(`--reconcile-workers: ${raw.reconcileWorkers} must be an integer from 1 to 64`);
  }
  return {
    kubeconfig: raw.kubeconfig?.trim() || undefined,
    namespace,
    metricsAddress: parseListenAddress('metrics-bind-address', raw.metricsBindAddress),
    healthProbeAddress: parseListenAddress('health-probe-bind-address', raw.healthProbeBindAddress),
    logLevel: raw.logLevel as LogLevel,
    reconcileWorkers: raw.reconcileWorkers,
    identity: raw.identity?.trim() || `workerpool-operator-${process.pid}`,
    idleFirstScaleDown: raw.idleFirstScaleDown ?? true,
    leaderElection: raw.leaderElect
      ? { namespace: leaseNamespace(raw, namespace), leaseName: 'workerpool-operator' }
      : undefined,
    allowedRedisEndpoints: endpointPolicy(raw.allowedRedisEndpoints),
  };
}

function endpointPolicy(list: string | undefined): EndpointPolicy | undefined {
  if (list === undefined || list.trim() === '') return undefined;
  try {
    return parseEndpointPolicy(list.split(','));
  } catch (error) {
    if (error instanceof EndpointPolicyError) throw new ConfigError(`--allowed-redis-endpoints: ${error.message}`);
    throw error;
  }
}

function leaseNamespace(raw: RawOperatorOptions, watched: string | undefined): string {
  const namespace = raw.leaderElectionNamespace?.trim() || watched;
  if (!namespace) {
    throw new ConfigError(
      '--leader-election-namespace: required with --leader-elect (set it, or POD_NAMESPACE through the downward API)',
    );
  }
  if (!DNS_LABEL.test(namespace))
    throw new ConfigError(`--leader-election-namespace: "${namespace}" is not a valid namespace name`);
  return namespace;
}
