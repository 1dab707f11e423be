import { QUEUE_FORMATS, type QueueFormat, type QueueSpec } from '../api/workerpool-schema.ts';
import { describeUrl } from './redis-endpoint.ts';
import type { PoolRegistration } from './signal-poller.ts';

// `workerpool-operator inspect` turns its flags into exactly the registration the controller
// would make for a WorkerPool, so that a person sees what the operator sees.

export interface InspectRequest {
  readonly redis: string;
  readonly format: string;
  readonly queues: readonly string[];
  readonly keyPrefix?: string | undefined;
  readonly consumerGroup?: string | undefined;
  readonly timestampField?: string | undefined;
  readonly timestampUnit?: string | undefined;
  readonly oldestAt?: string | undefined;
  /** The password, already read from the environment variable --password-env names. */
  readonly password?: string | undefined;
  readonly username?: string | undefined;
  /** PEM of a CA bundle for TLS. */
  readonly ca?: string | undefined;
  readonly insecureSkipVerify?: boolean | undefined;
}

/** A flag combination that cannot work; the message says which flag to change. */
export class InspectUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InspectUsageError';
  }
}

function isFormat(value: string): value is QueueFormat {
  return (QUEUE_FORMATS as readonly string[]).includes(value);
}

function listSettings(request: InspectRequest, format: QueueFormat): Pick<QueueSpec, 'list'> {
  const given =
    request.timestampField !== undefined || request.timestampUnit !== undefined || request.oldestAt !== undefined;
  if (!given) return {};
  if (format !== 'list')
    throw new InspectUsageError('--timestamp-field, --timestamp-unit and --oldest-at apply only to --format list');
  const unit = request.timestampUnit ?? 'milliseconds';
  const oldestAt = request.oldestAt ?? 'right';
  if (unit !== 'seconds' && unit !== 'milliseconds')
    throw new InspectUsageError(`--timestamp-unit must be seconds or milliseconds, got "${unit}"`);
  if (oldestAt !== 'right' && oldestAt !== 'left')
    throw new InspectUsageError(`--oldest-at must be right or left, got "${oldestAt}"`);
  return {
    list: {
      ...(request.timestampField === undefined ? {} : { timestampField: request.timestampField }),
      timestampUnit: unit,
      oldestAt,
    },
  };
}

function streamSettings(request: InspectRequest, format: QueueFormat): Pick<QueueSpec, 'stream'> {
  if (format === 'stream' && request.consumerGroup === undefined)
    throw new InspectUsageError('--format stream needs --consumer-group');
  if (format !== 'stream' && request.consumerGroup !== undefined)
    throw new InspectUsageError('--consumer-group applies only to --format stream');
  return request.consumerGroup === undefined ? {} : { stream: { consumerGroup: request.consumerGroup } };
}

/** The registration the controller would make for these flags. */
export function inspectRegistration(request: InspectRequest): PoolRegistration {
  if (!isFormat(request.format))
    throw new InspectUsageError(`--format must be one of ${QUEUE_FORMATS.join(', ')}, got "${request.format}"`);
  const format = request.format;
  if (!/^rediss?:\/\//.test(request.redis))
    throw new InspectUsageError(`--redis must be a redis:// or rediss:// URL, got "${describeUrl(request.redis)}"`);
  if (request.queues.length === 0) throw new InspectUsageError('name at least one --queue');
  if (request.keyPrefix !== undefined && (format === 'list' || format === 'stream'))
    throw new InspectUsageError('--key-prefix applies only to --format native, bullmq and sidekiq');
  const tlsWanted = request.ca !== undefined || request.insecureSkipVerify === true;
  const queue: QueueSpec = {
    format,
    names: [...request.queues],
    redis: {
      url: request.redis,
      ...(tlsWanted ? { tls: { enabled: true, insecureSkipVerify: request.insecureSkipVerify === true } } : {}),
    },
    ...(request.keyPrefix === undefined ? {} : { keyPrefix: request.keyPrefix }),
    ...listSettings(request, format),
    ...streamSettings(request, format),
  };
  return {
    queue,
    credentials: { username: request.username, password: request.password },
    ...(request.ca === undefined ? {} : { tlsMaterial: { ca: request.ca } }),
  };
}
