import { writeFileSync } from 'node:fs';
import { Redis } from 'ioredis';
import type { Argv, CommandModule } from 'yargs';
import { arrivalSource } from '../recorder/arrival-sources.ts';
import { describeAccuracy, parseDurationSeconds, recordedTraceCsv, recordTrace } from '../recorder/record-trace.ts';
import { describeUrl } from '../signals/redis-endpoint.ts';
import {
  FORMAT_OPTION,
  KEY_PREFIX_OPTION,
  PASSWORD_ENV_OPTION,
  passwordFromEnv,
  REDIS_URL_OPTION,
} from './queue-options.ts';

// `workerpool-operator record`: watch a live queue for a while and write its arrivals as the
// trace `simulate --trace` replays, so a team can compare policies on its own traffic.

const EXIT_USAGE = 2;
const EXIT_REDIS = 1;

const options = (yargs: Argv) =>
  yargs
    .option('redis', REDIS_URL_OPTION)
    .option('format', FORMAT_OPTION)
    .option('queue', { type: 'string', demandOption: true, describe: 'Queue name (the key, for list and stream)' })
    .option('key-prefix', KEY_PREFIX_OPTION)
    .option('duration', { type: 'string', demandOption: true, describe: 'How long to record: 90s, 15m, 2h' })
    .option('interval', { type: 'string', default: '1s', describe: 'Time between polls' })
    .option('bucket', { type: 'string', default: '1s', describe: 'Width of one CSV row' })
    .option('out', { type: 'string', demandOption: true, describe: 'CSV file to write (timestamp,count)' })
    .option('password-env', PASSWORD_ENV_OPTION);

type RecordArgs = ReturnType<typeof options> extends Argv<infer T> ? T : never;

class RecordUsageError extends Error {
  override name = 'RecordUsageError';
}

function settingsFrom(args: RecordArgs) {
  try {
    return {
      durationMs: parseDurationSeconds(args.duration, '--duration') * 1000,
      intervalMs: parseDurationSeconds(args.interval, '--interval') * 1000,
      bucketSeconds: parseDurationSeconds(args.bucket, '--bucket'),
    };
  } catch (error) {
    throw new RecordUsageError(error instanceof Error ? error.message : String(error));
  }
}

async function record(args: RecordArgs): Promise<number> {
  const settings = settingsFrom(args);
  const password = passwordFromEnv(args['password-env'], (message) => new RecordUsageError(message));
  const redis = new Redis(args.redis, {
    ...(password === undefined ? {} : { password }),
    lazyConnect: true,
    maxRetriesPerRequest: 2,
  });
  const where = `${describeUrl(args.redis)} ${args.format} queue ${args.queue}`;
  try {
    await redis.connect();
    const source = arrivalSource(args.format, { redis, queue: args.queue, keyPrefix: args['key-prefix'] });
    console.error(`recording ${where} for ${args.duration}: ${source.method}`);
    const trace = await recordTrace({ source, ...settings });
    writeFileSync(args.out, recordedTraceCsv(trace, where));
    console.log(`${args.out}: ${describeAccuracy(trace)}`);
    return 0;
  } catch (error) {
    // ioredis' messages name the host and port, never the password.
    console.error(`workerpool-operator record: ${where}: ${error instanceof Error ? error.message : String(error)}`);
    return EXIT_REDIS;
  } finally {
    redis.disconnect();
  }
}

export const recordCommand: CommandModule<object, RecordArgs> = {
  command: 'record',
  describe: 'Record the arrivals of a live queue as a trace for simulate --trace',
  builder: options,
  handler: async (args) => {
    try {
      process.exitCode = await record(args);
    } catch (error) {
      if (!(error instanceof RecordUsageError)) throw error;
      console.error(`workerpool-operator record: ${error.message}`);
      process.exitCode = EXIT_USAGE;
    }
  },
};
