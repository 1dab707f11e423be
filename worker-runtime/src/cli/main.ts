#!/usr/bin/env node
/**
 * workerpool-worker: the process a WorkerPool's pods run. The only place that handles signals and
 * calls process.exit — the library below it never does.
 */
import yargs, { type Argv } from 'yargs';
import { hideBin } from 'yargs/helpers';
import { parseDeadLettersConfig, parseRunConfig, SETTINGS } from '../config/config.ts';
import { ConfigError, describeSource, type Flags } from '../config/settings.ts';
import { createLogger } from '../log/logger.ts';
import { runDeadLetters, type DeadLettersAction } from './dead-letters-command.ts';
import { startWorkers, type RunningWorkers } from './run-command.ts';

/** Exit code for a configuration error, so a crash-looping pod says "fix your settings" at a glance. */
const EXIT_CONFIG = 2;

function describe(setting: keyof typeof SETTINGS, text: string): { type: 'string'; describe: string } {
  return { type: 'string', describe: `${text} [${describeSource(SETTINGS[setting])}]` };
}

const connectionOptions = {
  'redis-url': describe('redisUrl', 'Redis URL, redis:// or rediss:// (a password is better given as REDIS_PASSWORD)'),
  'key-prefix': describe('keyPrefix', 'prefix of every Redis key (default wp:)'),
  'log-level': describe('logLevel', 'fatal|error|warn|info|debug|trace|silent (default info)'),
} as const;

const runOptions = {
  ...connectionOptions,
  queues: describe('queues', 'queues to work on, comma-separated'),
  handlers: describe('handlers', 'module exporting the job handlers by job name'),
  concurrency: describe('concurrency', 'jobs run at once, per queue (default 10)'),
  'drain-timeout-seconds': describe('drainTimeout', 'on SIGTERM, how long in-flight jobs may finish (default 25)'),
  'visibility-timeout-seconds': describe('visibilityTimeout', 'a dead worker’s jobs run again after this (default 30)'),
  'heartbeat-interval-seconds': describe('heartbeatInterval', 'heartbeat period (default 5)'),
  'max-stalls': describe('maxStalls', 'dead-letter a job whose worker died this many times (default 3)'),
  'dead-letter-max-age-seconds': describe(
    'deadLetterMaxAge',
    'delete dead letters older than this (default 15552000: 180 days)',
  ),
  'eviction-policy-check': describe(
    'evictionPolicyCheck',
    'refuse|warn: what to do when Redis may evict keys (maxmemory-policy other than noeviction; default refuse)',
  ),
  'dead-letter-max-count': describe(
    'deadLetterMaxCount',
    'keep at most this many dead letters per queue (default 10000)',
  ),
  'pod-name': describe('podName', 'pod name published in heartbeats (default the host name)'),
  'metrics-port': describe('metricsPort', 'port of /metrics, /healthz, /readyz; 0 picks a free one (default 9464)'),
  'metrics-host': describe('metricsHost', 'address to listen on (default 0.0.0.0)'),
} as const;

async function run(flags: Flags): Promise<void> {
  const config = parseRunConfig(flags, process.env);
  const log = createLogger(config.logLevel, { pod: config.podName });
  const state: { running?: RunningWorkers } = {};
  let draining = false;
  // Registered before anything starts: a pod stopped while Redis is still unreachable exits cleanly.
  const onSignal = (signal: NodeJS.Signals) => {
    if (draining) {
      log.warn({ signal }, 'already draining');
      return;
    }
    draining = true;
    const { running } = state;
    if (!running) {
      log.info({ signal }, 'signal received before the workers started: exiting');
      process.exit(0);
    }
    log.info({ signal }, 'signal received: draining before exit');
    running.close().then(
      () => {
        log.info('drained, exiting');
        process.exit(0);
      },
      (err: unknown) => {
        log.error({ err }, 'drain failed');
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  state.running = await startWorkers(config, log);
}

function selection(
  argv: { ids?: string[]; all?: boolean },
  verb: string,
): DeadLettersAction & { kind: 'replay' | 'purge' } {
  const ids = argv.ids ?? [];
  if (argv.all === true && ids.length > 0)
    throw new ConfigError(`dead-letters ${verb}: give job ids or --all, not both`);
  if (argv.all !== true && ids.length === 0) throw new ConfigError(`dead-letters ${verb}: give job ids, or --all`);
  return { kind: verb === 'replay' ? 'replay' : 'purge', selection: argv.all === true ? 'all' : ids };
}

function deadLetterCommands(y: Argv): Argv {
  const print = (line: string) => process.stdout.write(`${line}\n`);
  const target = { ...connectionOptions, queue: describe('queue', 'the queue') };
  const withIds = (c: Argv) =>
    c
      .options(target)
      .positional('ids', { type: 'string', array: true })
      .option('all', { type: 'boolean', describe: 'every dead letter' });
  return y
    .command(
      'list',
      'print dead letters (oldest first) as JSON lines',
      (c) =>
        c
          .options(target)
          .option('limit', { type: 'number', default: 100 })
          .option('offset', { type: 'number', default: 0 }),
      (argv) =>
        runDeadLetters(
          parseDeadLettersConfig(argv, process.env),
          { kind: 'list', limit: argv.limit, offset: argv.offset },
          print,
        ),
    )
    .command('replay [ids..]', 'put dead letters back on the queue with fresh attempts', withIds, (argv) =>
      runDeadLetters(
        parseDeadLettersConfig(argv, process.env),
        selection(argv as { ids?: string[]; all?: boolean }, 'replay'),
        print,
      ),
    )
    .command('purge [ids..]', 'delete dead letters for good', withIds, (argv) =>
      runDeadLetters(
        parseDeadLettersConfig(argv, process.env),
        selection(argv as { ids?: string[]; all?: boolean }, 'purge'),
        print,
      ),
    )
    .demandCommand(1, 'dead-letters needs a subcommand: list, replay or purge');
}

async function main(): Promise<void> {
  await yargs(hideBin(process.argv))
    .scriptName('workerpool-worker')
    .command(
      'run',
      'run workers for the configured queues until SIGTERM',
      (y) => y.options(runOptions),
      (argv) => run(argv),
    )
    .command('dead-letters', 'inspect, replay or purge dead letters', deadLetterCommands)
    .demandCommand(1, 'give a command: run or dead-letters')
    .strict()
    .env(false)
    .fail((message, err) => {
      throw err ?? new ConfigError(message);
    })
    .parseAsync();
}

main().catch((err: unknown) => {
  const config = err instanceof ConfigError;
  process.stderr.write(`workerpool-worker: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(config ? EXIT_CONFIG : 1);
});
