import { CoordinationV1Api, V1MicroTime, type KubeConfig, type V1Lease } from '@kubernetes/client-node';
import type { Logger } from '../logger.ts';
import { httpStatus, isNotFound } from './kube-errors.ts';
import { withSignal } from './request-signal.ts';

// Leader election on a coordination.k8s.io Lease, with controller-runtime's timings: one of
// several operator replicas acts, the others wait and take over within a lease duration when it
// dies. As in client-go, expiry is judged by when *this* process last saw the record change,
// never by comparing the holder's clock with ours.
//
// Never two leaders: every request carries a deadline no later than the renew deadline, counted
// from when the last successful renew was *sent* (the standby counts its lease duration from when
// it saw that write, which is later). A replica that has not renewed by then gives up leadership
// at that moment, even while a request hangs on a stalled connection, leaving the lease duration
// minus the renew deadline (5 s by default) for its loops to stop before a standby may take over.

export interface LeaderElectionOptions {
  kubeConfig: KubeConfig;
  namespace: string;
  name: string;
  identity: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  logger: Logger;
}

type RenewOutcome = 'held' | 'taken' | 'failed';

export const LEASE_DEFAULTS = { leaseDurationMs: 15_000, renewDeadlineMs: 10_000, retryPeriodMs: 2_000 } as const;

export class LeaderElector {
  readonly #options: Required<LeaderElectionOptions>;
  readonly #api: CoordinationV1Api;
  #observed: { holder: string | undefined; resourceVersion: string | undefined; at: number } = {
    holder: undefined,
    resourceVersion: undefined,
    at: 0,
  };
  #leading = false;
  #lastRenew = 0;
  #stopped = false;
  #timer: NodeJS.Timeout | undefined;
  /** The renew under way, if any: a release waits for it, or the renew's write would refuse the hand-back. */
  #renewing: Promise<RenewOutcome> | undefined;

  constructor(options: LeaderElectionOptions) {
    this.#options = { ...LEASE_DEFAULTS, ...options };
    const { leaseDurationMs, renewDeadlineMs, retryPeriodMs } = this.#options;
    if (!(renewDeadlineMs < leaseDurationMs))
      throw new Error(`renewDeadlineMs (${renewDeadlineMs}) must be shorter than leaseDurationMs (${leaseDurationMs})`);
    if (!(retryPeriodMs < renewDeadlineMs))
      throw new Error(`retryPeriodMs (${retryPeriodMs}) must be shorter than renewDeadlineMs (${renewDeadlineMs})`);
    this.#api = options.kubeConfig.makeApiClient(CoordinationV1Api);
  }

  get isLeader(): boolean {
    return this.#leading;
  }

  /**
   * Resolves once this process holds the lease. Calls onLost, at once and only once, when a renew
   * has not succeeded within the renew deadline; the caller must stop writing before it returns.
   */
  async acquire(onLost: () => void): Promise<void> {
    const { renewDeadlineMs, retryPeriodMs } = this.#options;
    for (;;) {
      if (this.#stopped) throw new Error('leader election stopped before the lease was acquired');
      const attemptAt = Date.now();
      if ((await this.#tryAcquireOrRenew(attemptAt + renewDeadlineMs)) === 'held') {
        this.#lastRenew = attemptAt;
        break;
      }
      await delay(retryPeriodMs);
    }
    this.#leading = true;
    this.#options.logger.info(
      { lease: `${this.#options.namespace}/${this.#options.name}`, identity: this.#options.identity },
      'became leader',
    );
    const renew = async () => {
      if (this.#stopped) return;
      const attemptAt = Date.now();
      const deadline = this.#lastRenew + renewDeadlineMs;
      let outcome: RenewOutcome = 'failed';
      if (attemptAt < deadline) {
        const attempt = this.#tryAcquireOrRenew(deadline);
        this.#renewing = attempt;
        outcome = await attempt;
        this.#renewing = undefined;
      }
      if (outcome === 'held') this.#lastRenew = attemptAt;
      if (this.#stopped) return;
      // Another holder has taken it: it may already be acting, so this one stops at once.
      if (outcome === 'taken' || Date.now() >= this.#lastRenew + renewDeadlineMs) {
        this.#leading = false;
        this.#options.logger.error(
          { lease: this.#options.name },
          'lost the leader lease: could not renew it within the deadline',
        );
        onLost();
        return;
      }
      // The next try comes no later than the deadline, so that the loss is declared on time.
      const untilDeadline = this.#lastRenew + renewDeadlineMs - Date.now();
      this.#timer = setTimeout(() => void renew(), Math.min(retryPeriodMs, untilDeadline));
    };
    this.#timer = setTimeout(() => void renew(), retryPeriodMs);
  }

  /**
   * Stops renewing and, if leading, hands the lease back so that a standby takes over at once.
   * Every way out is logged: a hand-back that did not happen is worth knowing about, because the
   * standby then waits a whole lease duration.
   */
  async release(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    const lease = `${this.#options.namespace}/${this.#options.name}`;
    if (!this.#leading) {
      this.#options.logger.info({ lease }, 'not leading: no leader lease to release');
      return;
    }
    this.#leading = false;
    const startedAt = Date.now();
    // A renew already sent would replace the lease after our read and refuse our write (409).
    await this.#renewing;
    const deadline = withSignal(AbortSignal.timeout(this.#options.renewDeadlineMs));
    try {
      const current = await this.#api.readNamespacedLease(
        { name: this.#options.name, namespace: this.#options.namespace },
        deadline,
      );
      const holder = current.spec?.holderIdentity || undefined;
      if (holder !== this.#options.identity) {
        this.#options.logger.warn(
          { lease, holder: holder ?? '(none)' },
          'the leader lease is no longer ours: nothing to release',
        );
        return;
      }
      current.spec = {
        ...current.spec,
        holderIdentity: undefined,
        leaseDurationSeconds: 1,
        renewTime: new V1MicroTime(),
      };
      await this.#api.replaceNamespacedLease(
        { name: this.#options.name, namespace: this.#options.namespace, body: current },
        deadline,
      );
      this.#options.logger.info({ lease, tookMs: Date.now() - startedAt }, 'released the leader lease');
    } catch (error) {
      this.#options.logger.warn(
        { lease, err: (error as Error).message, tookMs: Date.now() - startedAt },
        'could not release the leader lease; a standby takes over when it expires',
      );
    }
  }

  /**
   * One read and at most one write, both abandoned at `deadline` (epoch ms): 'held' when this
   * process now holds the lease, 'taken' when another holder's lease has not run out.
   */
  async #tryAcquireOrRenew(deadline: number): Promise<RenewOutcome> {
    const { namespace, name, identity } = this.#options;
    const options = withSignal(AbortSignal.timeout(Math.max(0, deadline - Date.now())));
    const now = new V1MicroTime(); // MicroTime: the API server refuses millisecond timestamps on Leases
    const durationSeconds = Math.ceil(this.#options.leaseDurationMs / 1000);
    let lease: V1Lease;
    try {
      lease = await this.#api.readNamespacedLease({ name, namespace }, options);
    } catch (error) {
      if (!isNotFound(error)) return this.#failed(error);
      try {
        await this.#api.createNamespacedLease(
          {
            namespace,
            body: {
              metadata: { name, namespace },
              spec: {
                holderIdentity: identity,
                leaseDurationSeconds: durationSeconds,
                acquireTime: now,
                renewTime: now,
                leaseTransitions: 0,
              },
            },
          },
          options,
        );
        return 'held';
      } catch (createError) {
        return this.#failed(createError);
      }
    }
    const holder = lease.spec?.holderIdentity || undefined;
    if (holder !== this.#observed.holder || lease.metadata?.resourceVersion !== this.#observed.resourceVersion) {
      this.#observed = { holder, resourceVersion: lease.metadata?.resourceVersion, at: Date.now() };
    }
    const heldByOther = holder !== undefined && holder !== identity;
    const expiresAt = this.#observed.at + (lease.spec?.leaseDurationSeconds ?? durationSeconds) * 1000;
    if (heldByOther && Date.now() < expiresAt) return 'taken';
    const transitions = (lease.spec?.leaseTransitions ?? 0) + (holder === identity ? 0 : 1);
    lease.spec = {
      holderIdentity: identity,
      leaseDurationSeconds: durationSeconds,
      acquireTime: holder === identity ? lease.spec?.acquireTime : now,
      renewTime: now,
      leaseTransitions: transitions,
    };
    try {
      await this.#api.replaceNamespacedLease({ name, namespace, body: lease }, options);
      return 'held';
    } catch (error) {
      return this.#failed(error);
    }
  }

  #failed(error: unknown): 'failed' {
    // A conflict means another replica wrote first: expected, and settled on the next try.
    if (httpStatus(error) !== 409)
      this.#options.logger.warn({ err: (error as Error).message }, 'leader election request failed');
    return 'failed';
  }
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
