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
  ])('rejects a bad --$field with a message naming it', ({ raw, message }) => {
    expect(() => parseOperatorConfig(raw)).toThrow(message);
  });
});
