/** What a worker publishes about itself every heartbeat, so the operator can prefer idle pods. */
export interface WorkerHeartbeat {
  readonly workerId: string;
  /** The pod name (HOSTNAME in Kubernetes). */
  readonly pod: string;
  readonly pid: number;
  /** Jobs the worker is running right now. */
  readonly busy: number;
  /** Jobs the worker runs at once at most. */
  readonly concurrency: number;
  /** True once the worker got SIGTERM: it fetches nothing more and will exit. */
  readonly draining: boolean;
  /** When this heartbeat was written (epoch ms, worker clock). */
  readonly beatAt: number;
  readonly startedAt: number;
  /**
   * True from the runtime that reads drain requests (PROTOCOL.md, Remote drain). A heartbeat
   * without it comes from an older worker that would ignore one: the operator removes its pod
   * idle-first instead of waiting out a drain deadline for an answer that never comes.
   */
  readonly remoteDrain?: boolean;
}

export function encodeHeartbeat(beat: WorkerHeartbeat): string {
  const { workerId: _id, ...rest } = beat;
  return JSON.stringify(rest);
}

function field<T>(obj: Record<string, unknown>, name: string, type: 'number' | 'string' | 'boolean'): T {
  const value = obj[name];
  if (typeof value !== type) throw new Error(`heartbeat field "${name}" must be a ${type}`);
  return value as T;
}

function optionalField<T>(
  obj: Record<string, unknown>,
  name: string,
  type: 'number' | 'string' | 'boolean',
): T | undefined {
  return obj[name] === undefined ? undefined : field<T>(obj, name, type);
}

/** Decodes a heartbeat written by encodeHeartbeat; throws naming the bad field. */
export function decodeHeartbeat(workerId: string, json: string): WorkerHeartbeat {
  const parsed: unknown = JSON.parse(json);
  if (typeof parsed !== 'object' || parsed === null) throw new Error('heartbeat must be a JSON object');
  const obj = parsed as Record<string, unknown>;
  return {
    workerId,
    pod: field(obj, 'pod', 'string'),
    pid: field(obj, 'pid', 'number'),
    busy: field(obj, 'busy', 'number'),
    concurrency: field(obj, 'concurrency', 'number'),
    draining: field(obj, 'draining', 'boolean'),
    beatAt: field(obj, 'beatAt', 'number'),
    startedAt: field(obj, 'startedAt', 'number'),
    ...(optionalField<boolean>(obj, 'remoteDrain', 'boolean') === true ? { remoteDrain: true } : {}),
  };
}
