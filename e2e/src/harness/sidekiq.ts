import { execFileSync, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
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

/**
 * One real Sidekiq client kept running, pushing one WorkJob at a time as an app enqueues over
 * time (a Ruby start per job would cost a core's fifth at a job a second). Pushes go in order.
 */
export class SidekiqProducer {
  readonly #child;
  readonly #jids: AsyncIterator<string>;
  #stderr = '';
  #last: Promise<unknown> = Promise.resolve();

  constructor(redisUrl: string, queue: string) {
    this.#child = spawn('ruby', [SIDEKIQ_PUSH, queue, '--lines'], {
      env: { ...process.env, REDIS_URL: redisUrl },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.#child.stderr.on('data', (chunk: Buffer) => {
      this.#stderr = (this.#stderr + chunk.toString()).slice(-2_000);
    });
    this.#jids = createInterface({ input: this.#child.stdout })[Symbol.asyncIterator]();
  }

  /** Pushes one WorkJob of `ms`; resolves with its jid. */
  push(ms: number): Promise<string> {
    const pushed = this.#last.then(async () => {
      this.#child.stdin.write(`${Math.round(ms)}\n`);
      const line = await this.#jids.next();
      if (line.done === true)
        throw new Error(`the Sidekiq client stopped (is ruby-sidekiq installed?): ${this.#stderr}`);
      return line.value;
    });
    this.#last = pushed.catch(() => undefined);
    return pushed;
  }

  async close(): Promise<void> {
    await this.#last;
    if (this.#child.exitCode !== null) return;
    const exited = once(this.#child, 'exit');
    this.#child.stdin.end();
    await exited;
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
