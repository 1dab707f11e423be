import { Redis } from 'ioredis';
import { encodeHeartbeat, publishHeartbeat, queueKeys, redisTimeMs } from '@workerpool/worker-runtime/protocol';

// The heartbeats a worker-runtime process in each pod would write (worker-runtime/PROTOCOL.md),
// written with the runtime's own protocol calls: for tests that stand in for the pods, not for
// the protocol (a test harness of ours runs no kubelet, or no worker).

export interface PodWorker {
  busy: number;
  /** Says it drains: it takes no job (after the operator's quiet request, or SIGTERM). */
  draining?: boolean;
  concurrency?: number;
  /** A runtime from before remote drain: its heartbeat says nothing of reading drain requests. */
  olderRuntime?: boolean;
}

/** One worker per pod on `queue`, named `<pod>-w`, its heartbeat kept for `ttlMs`. */
export async function beatAsWorkers(
  redisUrl: string,
  keyPrefix: string,
  queue: string,
  pods: Readonly<Record<string, PodWorker>>,
  ttlMs = 120_000,
): Promise<void> {
  const client = new Redis(redisUrl);
  try {
    const now = await redisTimeMs(client);
    for (const [pod, { busy, draining = false, concurrency = 4, olderRuntime = false }] of Object.entries(pods)) {
      const workerId = `${pod}-w`;
      const heartbeat = encodeHeartbeat({
        workerId,
        pod,
        pid: 1,
        busy,
        concurrency,
        draining,
        beatAt: now,
        startedAt: now - 60_000,
        ...(olderRuntime ? {} : { remoteDrain: true }),
      });
      await publishHeartbeat(client, queueKeys(keyPrefix, queue), {
        workerId,
        ttlMs,
        heartbeat,
        visibilityTimeoutMs: ttlMs,
        reservations: [],
      });
    }
  } finally {
    client.disconnect();
  }
}
