import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { ackAndReserve, recordFailure } from '../protocol/commands.ts';
import { entryJobId } from '../protocol/entry.ts';
import { Queue } from '../queue/queue.ts';
import { redisFixture } from '../test-support/redis-fixture.ts';

const MAIN = join(import.meta.dirname, 'main.ts');
const run = promisify(execFile);

describe('the dead-letters CLI', () => {
  const fx = redisFixture(inject('redisUrl'), 'cli-dead');
  afterAll(() => fx.cleanup());
  const cli = (...args: string[]) =>
    run(process.execPath, [MAIN, 'dead-letters', ...args, '--queue', 'mail'], {
      env: { REDIS_URL: fx.url, WORKERPOOL_KEY_PREFIX: fx.prefix },
    });

  /** Three jobs reserved and buried through the protocol, as a worker would. */
  async function buryThree(queue: Queue): Promise<string[]> {
    await queue.addBulk(['a', 'b', 'c'].map((to) => ({ name: 'send', data: { to } })));
    const { reserved } = await ackAndReserve(fx.redis, queue.keys, {
      visibilityTimeoutMs: 30_000,
      count: 3,
      token: 'cli',
      acks: [],
    });
    for (const job of reserved) {
      const outcome = {
        kind: 'dead',
        info: { reason: 'attempts-exhausted', attempts: 3, lastError: 'Error: smtp 550' },
      } as const;
      await recordFailure(fx.redis, queue.keys, {
        reservation: job.reservation,
        jobId: entryJobId(job.entry),
        record: job.record,
        outcome,
      });
    }
    return reserved.map((job) => entryJobId(job.entry));
  }

  it('lists dead letters as JSON lines, replays one and purges the rest', async () => {
    const queue = new Queue('mail', { connection: fx.redis, prefix: fx.prefix });
    const [first, ...rest] = await buryThree(queue);

    const listed = (await cli('list')).stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    // Oldest first by the time each died; three buried in one millisecond tie, and their random
    // ids then order them, so each is found by id rather than by place.
    expect(listed.map((letter) => letter.id).sort()).toEqual([first, ...rest].sort());
    expect(listed.find((letter) => letter.id === first)).toMatchObject({
      id: first,
      name: 'send',
      reason: 'attempts-exhausted',
      attempts: 3,
      lastError: 'Error: smtp 550',
      data: { to: 'a' },
    });

    expect(JSON.parse((await cli('replay', first ?? '')).stdout)).toEqual({
      queue: 'mail',
      replayed: 1,
      skippedMalformed: [],
    });
    expect(await fx.redis.llen(queue.keys.wait)).toBe(1);
    expect(JSON.parse((await cli('purge', '--all')).stdout)).toEqual({ queue: 'mail', purged: rest.length });
    expect(await fx.redis.zcard(queue.keys.dead)).toBe(0);
    expect(await fx.redis.hlen(queue.keys.jobs)).toBe(1); // only the replayed job is left
  });

  it('refuses replay without ids or --all, naming what is missing, with exit code 2', async () => {
    const failure = await cli('replay').then(
      () => undefined,
      (err: unknown) => err as { code: number; stderr: string },
    );
    expect(failure?.code).toBe(2);
    expect(failure?.stderr).toContain('dead-letters replay: give job ids, or --all');
  });
});
