import { describe, expect, it } from 'vitest';
import { parseOperatorConfig, type RawOperatorOptions } from './config.ts';

const valid: RawOperatorOptions = {
  metricsBindAddress: ':8080',
  healthProbeBindAddress: '127.0.0.1:8081',
  logLevel: 'info',
  reconcileWorkers: 4,
};

describe('parseOperatorConfig', () => {
  it('turns flags into typed addresses and defaults the scope to all namespaces', () => {
    const config = parseOperatorConfig(valid);
    expect(config.metricsAddress).toEqual({ host: '0.0.0.0', port: 8080 });
    expect(config.healthProbeAddress).toEqual({ host: '127.0.0.1', port: 8081 });
    expect(config.namespace).toBeUndefined();
  });

  it('spares busy pods on scale-down unless told not to', () => {
    expect(parseOperatorConfig(valid).idleFirstScaleDown).toBe(true);
    expect(parseOperatorConfig({ ...valid, idleFirstScaleDown: false }).idleFirstScaleDown).toBe(false);
  });

  it('allows any Redis host unless the platform lists the ones pools may name', () => {
    expect(parseOperatorConfig(valid).allowedRedisEndpoints).toBeUndefined();
    const policy = parseOperatorConfig({
      ...valid,
      allowedRedisEndpoints: 'redis.billing.svc, 10.20.0.0/16',
    }).allowedRedisEndpoints;
    expect(policy?.entries).toEqual(['redis.billing.svc', '10.20.0.0/16']);
    expect(policy?.allows('10.20.1.1')).toBe(true);
    expect(policy?.allows('10.96.0.1')).toBe(false);
  });

  it('puts the leader lease in the named namespace, else the watched one, and insists on one', () => {
    expect(
      parseOperatorConfig({ ...valid, leaderElect: true, leaderElectionNamespace: 'workerpool-system' }).leaderElection,
    ).toEqual({ namespace: 'workerpool-system', leaseName: 'workerpool-operator' });
    expect(parseOperatorConfig({ ...valid, leaderElect: true, namespace: 'billing' }).leaderElection?.namespace).toBe(
      'billing',
    );
    expect(parseOperatorConfig(valid).leaderElection).toBeUndefined();
    expect(() => parseOperatorConfig({ ...valid, leaderElect: true })).toThrow(
      /--leader-election-namespace: required with --leader-elect/,
    );
  });

  it.each([
    { field: 'log-level', raw: { ...valid, logLevel: 'loud' }, message: /--log-level: "loud" is not one of/ },
    {
      field: 'namespace',
      raw: { ...valid, namespace: 'Billing_Team' },
      message: /--namespace: "Billing_Team" is not a valid namespace/,
    },
    {
      field: 'metrics-bind-address',
      raw: { ...valid, metricsBindAddress: '8080' },
      message: /--metrics-bind-address: "8080" is not a listen address/,
    },
    {
      field: 'health-probe-bind-address',
      raw: { ...valid, healthProbeBindAddress: ':99999' },
      message: /--health-probe-bind-address/,
    },
    { field: 'reconcile-workers', raw: { ...valid, reconcileWorkers: 0 }, message: /--reconcile-workers: 0 must be/ },
    {
      field: 'allowed-redis-endpoints',
      raw: { ...valid, allowedRedisEndpoints: 'redis.billing.svc, 10.0.0.0/40' },
      message: /--allowed-redis-endpoints: "10\.0\.0\.0\/40" is not a CIDR/,
    },
  ])('rejects a bad --$field with a message naming it', ({ raw, message }) => {
    expect(() => parseOperatorConfig(raw)).toThrow(message);
  });
});
