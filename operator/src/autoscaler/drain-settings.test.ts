import { describe, expect, it } from 'vitest';
import type { V1Container, V1Deployment } from '@kubernetes/client-node';
import { trimDeployment } from '../controller/cache-trim.ts';
import { ConditionType, Reason } from '../controller/conditions.ts';
import { templatePool } from '../testing/fixtures.ts';
import { drainSettingsOf, gracePeriodCondition, workerShutdownSeconds } from './drain-settings.ts';

function pool(
  format: 'native' | 'sidekiq' | 'bullmq',
  container: Partial<V1Container>,
  grace?: number,
  drain?: { enabled?: boolean; deadlineSeconds?: number },
) {
  return templatePool('billing', 'mailers', {
    template: {
      spec: {
        ...(grace === undefined ? {} : { terminationGracePeriodSeconds: grace }),
        containers: [{ name: 'worker', image: 'registry.example/mailer:1.0', ...container }],
      },
    },
    queue: { format, names: ['mailers'], redis: { url: 'redis://redis.billing.svc:6379/0' } },
    ...(drain === undefined ? {} : { drain }),
  });
}

describe('drain settings', () => {
  it('drains sidekiq and native pools by default, for the grace period; never bullmq', () => {
    expect(drainSettingsOf(pool('sidekiq', {}), undefined)).toEqual({
      enabled: true,
      requested: true,
      deadlineSeconds: 30,
    });
    expect(drainSettingsOf(pool('native', {}, 90), undefined).deadlineSeconds).toBe(90);
    expect(drainSettingsOf(pool('native', {}, 90, { deadlineSeconds: 40 }), undefined).deadlineSeconds).toBe(40);
    expect(drainSettingsOf(pool('native', {}, 90, { enabled: false }), undefined).enabled).toBe(false);
    expect(drainSettingsOf(pool('bullmq', {}), undefined)).toMatchObject({ enabled: false, requested: true });
  });

  it("reads the worker's own shutdown timeout as the worker does", () => {
    expect(workerShutdownSeconds('sidekiq', { name: 'w', args: ['-q', 'a', '-c', '3', '-t', '10'] })).toEqual({
      seconds: 10,
      setting: 'Sidekiq -t',
    });
    expect(
      workerShutdownSeconds('sidekiq', { name: 'w', command: ['bundle', 'exec', 'sidekiq', '--timeout=45'] }),
    ).toEqual({ seconds: 45, setting: 'Sidekiq -t' });
    expect(workerShutdownSeconds('sidekiq', { name: 'w' })?.seconds).toBe(25);
    expect(
      workerShutdownSeconds('native', { name: 'w', env: [{ name: 'WORKERPOOL_DRAIN_TIMEOUT_SECONDS', value: '55' }] }),
    ).toEqual({ seconds: 55, setting: 'WORKERPOOL_DRAIN_TIMEOUT_SECONDS' });
    expect(
      workerShutdownSeconds('native', { name: 'w', args: ['run', '--drain-timeout-seconds', '12'] })?.seconds,
    ).toBe(12);
    expect(workerShutdownSeconds('bullmq', { name: 'w' })).toBeUndefined();
  });
});

describe('the GracePeriod condition', () => {
  it('warns, naming both numbers, when the grace period is shorter than Sidekiq -t', () => {
    expect(
      gracePeriodCondition(pool('sidekiq', { args: ['-t', '25'] }, 20, { deadlineSeconds: 15 }), undefined),
    ).toEqual({
      type: ConditionType.GracePeriod,
      status: 'False',
      reason: Reason.GracePeriodTooShort,
      message:
        "terminationGracePeriodSeconds 20s is shorter than the worker's shutdown timeout of 25s (Sidekiq -t): a job still running then is killed",
    });
  });

  it("reads a scaleTargetRef Deployment as the operator's cache keeps it (a Sidekiq chart's)", () => {
    const chart: V1Deployment = {
      metadata: { name: 'sidekiq', namespace: 'billing', generation: 2 },
      spec: {
        selector: { matchLabels: { app: 'sidekiq' } },
        template: {
          spec: {
            terminationGracePeriodSeconds: 20,
            containers: [
              { name: 'sidekiq', image: 'shop/rails:1', command: ['bundle', 'exec', 'sidekiq', '-t', '25'] },
            ],
          },
        },
      },
    };
    trimDeployment(chart);
    const target = pool('sidekiq', {});
    delete target.spec.template;
    target.spec.scaleTargetRef = { apiVersion: 'apps/v1', kind: 'Deployment', name: 'sidekiq' };
    expect(drainSettingsOf(target, chart).deadlineSeconds).toBe(20);
    expect(gracePeriodCondition(target, chart).message).toBe(
      "terminationGracePeriodSeconds 20s is shorter than the worker's shutdown timeout of 25s (Sidekiq -t): a job still running then is killed",
    );
  });

  it('warns when the grace period is shorter than the drain deadline, and when both are too long', () => {
    const both = gracePeriodCondition(
      pool('native', { env: [{ name: 'WORKERPOOL_DRAIN_TIMEOUT_SECONDS', value: '40' }] }, 30, { deadlineSeconds: 60 }),
      undefined,
    );
    expect(both.status).toBe('False');
    expect(both.message).toBe(
      "terminationGracePeriodSeconds 30s is shorter than the drain deadline of 60s (spec.drain.deadlineSeconds) and shorter than the worker's shutdown timeout of 40s (WORKERPOOL_DRAIN_TIMEOUT_SECONDS): a job still running then is killed",
    );
  });

  it('is content with the defaults: a 30 s grace period, a 25 s shutdown, a drain deadline of the grace period', () => {
    expect(gracePeriodCondition(pool('native', {}), undefined)).toMatchObject({
      status: 'True',
      reason: Reason.GracePeriodSufficient,
    });
    expect(gracePeriodCondition(pool('bullmq', {}, 5), undefined).status).toBe('True');
  });
});
