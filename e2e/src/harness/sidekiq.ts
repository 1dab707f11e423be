import { execFileSync } from 'node:child_process';
import type { V1PodTemplateSpec } from '@kubernetes/client-node';
import { SIDEKIQ_PUSH } from '@workerpool/testkit/sidekiq-push';
import { TEST_IMAGES } from './images.ts';

// Real Sidekiq 6.4 in the test node's pods (e2e/images/sidekiq), and jobs pushed by its client.

/** Pushes `count` WorkJob jobs of `ms` each with the real Sidekiq client; returns their jids. */
export function pushSidekiqJobs(redisUrl: string, queue: string, count: number, ms: number): string[] {
  try {
    const out = execFileSync('ruby', [SIDEKIQ_PUSH, queue, String(count), String(ms)], {
      encoding: 'utf8',
      env: { ...process.env, REDIS_URL: redisUrl },
    });
    return JSON.parse(out) as string[];
  } catch (error) {
    throw new Error(
      `pushing with the Sidekiq gem failed (is ruby-sidekiq installed? npm run setup): ${String(error)}`,
      { cause: error },
    );
  }
}

/** Pods of real Sidekiq processes taking `queue`, recording evidence under `recordPrefix`. */
export function sidekiqTemplate(options: {
  redisUrl: string;
  queue: string;
  recordPrefix: string;
  concurrency: number;
  shutdownSeconds: number;
  graceSeconds: number;
}): V1PodTemplateSpec {
  return {
    spec: {
      terminationGracePeriodSeconds: options.graceSeconds,
      containers: [
        {
          name: 'sidekiq',
          image: TEST_IMAGES.sidekiq,
          imagePullPolicy: 'Never',
          args: ['-q', options.queue, '-c', String(options.concurrency), '-t', String(options.shutdownSeconds)],
          env: [
            { name: 'REDIS_URL', value: options.redisUrl },
            { name: 'EXAMPLE_RECORD_PREFIX', value: options.recordPrefix },
          ],
          resources: { requests: { cpu: '10m', memory: '64Mi' }, limits: { memory: '256Mi' } },
        },
      ],
    },
  };
}
