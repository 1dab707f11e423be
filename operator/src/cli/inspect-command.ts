import { readFileSync } from 'node:fs';
import type { Argv, CommandModule } from 'yargs';
import { InspectUsageError, inspectRegistration, type InspectRequest } from '../signals/inspect-request.ts';
import { formatReadingTable } from '../signals/reading-table.ts';
import { describeEndpoint } from '../signals/redis-endpoint.ts';
import { SignalPoller, type PoolRegistration } from '../signals/signal-poller.ts';
import {
  FORMAT_OPTION,
  KEY_PREFIX_OPTION,
  PASSWORD_ENV_OPTION,
  passwordFromEnv,
  REDIS_URL_OPTION,
} from './queue-options.ts';

const INSPECTED_POOL = 'inspect';
const EXIT_READ_FAILED = 1;
const EXIT_USAGE = 2;

const options = (yargs: Argv) =>
  yargs
    .option('redis', REDIS_URL_OPTION)
    .option('format', FORMAT_OPTION)
    .option('queue', {
      type: 'string',
      array: true,
      demandOption: true,
      describe: 'Queue name (repeat for several), as in spec.queue.names',
    })
    .option('key-prefix', KEY_PREFIX_OPTION)
    .option('consumer-group', { type: 'string', describe: 'Consumer group (format stream)' })
    .option('timestamp-field', {
      type: 'string',
      describe: 'JSON field of list items holding their enqueue time (format list)',
    })
    .option('timestamp-unit', {
      type: 'string',
      choices: ['seconds', 'milliseconds'],
      describe: 'Unit of --timestamp-field (default milliseconds)',
    })
    .option('oldest-at', {
      type: 'string',
      choices: ['right', 'left'],
      describe: 'End of the list holding the oldest item (default right)',
    })
    .option('password-env', PASSWORD_ENV_OPTION)
    .option('username', { type: 'string', describe: 'Redis ACL user name' })
    .option('ca-file', { type: 'string', describe: 'PEM CA bundle for TLS' })
    .option('insecure-skip-verify', {
      type: 'boolean',
      default: false,
      describe: 'Accept any TLS server certificate (testing only)',
    })
    .option('timeout-ms', { type: 'number', default: 2000, describe: 'Command and connect timeout' })
    .option('json', { type: 'boolean', default: false, describe: 'Print the reading as JSON' });

type InspectArgs = ReturnType<typeof options> extends Argv<infer T> ? T : never;

function requestFrom(args: InspectArgs): InspectRequest {
  return {
    redis: args.redis,
    format: args.format,
    queues: args.queue,
    keyPrefix: args['key-prefix'],
    consumerGroup: args['consumer-group'],
    timestampField: args['timestamp-field'],
    timestampUnit: args['timestamp-unit'],
    oldestAt: args['oldest-at'],
    password: passwordFromEnv(args['password-env'], (message) => new InspectUsageError(message)),
    username: args.username,
    ca: args['ca-file'] === undefined ? undefined : readFileSync(args['ca-file'], 'utf8'),
    insecureSkipVerify: args['insecure-skip-verify'],
  };
}

async function inspect(registration: PoolRegistration, args: InspectArgs): Promise<number> {
  const poller = new SignalPoller({ commandTimeoutMs: args['timeout-ms'], connectTimeoutMs: args['timeout-ms'] });
  try {
    poller.register(INSPECTED_POOL, registration);
    const result = (await poller.readAll()).get(INSPECTED_POOL);
    const header = {
      endpoint: describeEndpoint(registration.queue.redis),
      format: registration.queue.format,
      queues: registration.queue.names,
    };
    if (result === undefined || !result.ok) {
      const error = result?.ok === false ? result.error : undefined;
      if (args.json)
        console.log(
          JSON.stringify(
            { ...header, error: { kind: error?.kind ?? 'redis-error', message: error?.message ?? 'no reading' } },
            null,
            2,
          ),
        );
      else console.error(`workerpool-operator inspect: ${error?.kind ?? 'error'}: ${error?.message ?? 'no reading'}`);
      return EXIT_READ_FAILED;
    }
    console.log(
      args.json
        ? JSON.stringify({ ...header, reading: result.reading }, null, 2)
        : formatReadingTable(header, result.reading),
    );
    return 0;
  } finally {
    await poller.close();
  }
}

export const inspectCommand: CommandModule<object, InspectArgs> = {
  command: 'inspect',
  describe: 'Read a queue once, as the operator reads it, and print depth, latency, due jobs, busy workers',
  builder: options,
  handler: async (args) => {
    let registration: PoolRegistration;
    try {
      registration = inspectRegistration(requestFrom(args));
    } catch (error) {
      if (!(error instanceof InspectUsageError)) throw error;
      console.error(`workerpool-operator inspect: ${error.message}`);
      process.exitCode = EXIT_USAGE;
      return;
    }
    process.exitCode = await inspect(registration, args);
  },
};
