import { CoordinationV1Api, V1MicroTime, type KubeConfig, type V1Lease } from '@kubernetes/client-node';
import type { Logger } from '../logger.ts';
import { httpStatus, isNotFound } from './kube-errors.ts';

// Leader election on a coordination.k8s.io Lease, with controller-runtime's timings: one of
// several operator replicas acts, the others wait and take over within a lease duration when it
// dies. As in client-go, expiry is judged by when *this* process last saw the record change,
// never by comparing the holder's clock with ours.

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

  constructor(options: LeaderElectionOptions) {
    this.#options = { ...LEASE_DEFAULTS, ...options };
    this.#api = options.kubeConfig.makeApiClient(CoordinationV1Api);
  }

  get isLeader(): boolean {
    return this.#leading;
  }

  /** Resolves once this process holds the lease; calls onLost if it later fails to renew in time. */
  async acquire(onLost: () => void): Promise<void> {
    for (;;) {
      if (this.#stopped) throw new Error('leader election stopped before the lease was acquired');
      if (await this.#tryAcquireOrRenew()) break;
      await delay(this.#options.retryPeriodMs);
    }
    this.#leading = true;
    this.#lastRenew = Date.now();
    this.#options.logger.info(
      { lease: `${this.#options.namespace}/${this.#options.name}`, identity: this.#options.identity },
      'became leader',
    );
    const renew = async () => {
      if (this.#stopped) return;
      if (await this.#tryAcquireOrRenew()) this.#lastRenew = Date.now();
      else if (Date.now() - this.#lastRenew > this.#options.renewDeadlineMs) {
        this.#leading = false;
        this.#options.logger.error(
          { lease: this.#options.name },
          'lost the leader lease: could not renew it within the deadline',
        );
        onLost();
        return;
      }
      this.#timer = setTimeout(() => void renew(), this.#options.retryPeriodMs);
    };
    this.#timer = setTimeout(() => void renew(), this.#options.retryPeriodMs);
  }

  /** Stops renewing and, if leading, hands the lease back so that a standby takes over at once. */
  async release(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#timer);
    if (!this.#leading) return;
    this.#leading = false;
    try {
      const lease = await this.#api.readNamespacedLease({
        name: this.#options.name,
        namespace: this.#options.namespace,
      });
      if (lease.spec?.holderIdentity !== this.#options.identity) return;
      lease.spec = { ...lease.spec, holderIdentity: undefined, leaseDurationSeconds: 1, renewTime: new V1MicroTime() };
      await this.#api.replaceNamespacedLease({
        name: this.#options.name,
        namespace: this.#options.namespace,
        body: lease,
      });
      this.#options.logger.info(
        { lease: `${this.#options.namespace}/${this.#options.name}` },
        'released the leader lease',
      );
    } catch (error) {
      this.#options.logger.warn(
        { err: (error as Error).message },
        'could not release the leader lease; a standby takes over when it expires',
      );
    }
  }

  async #tryAcquireOrRenew(): Promise<boolean> {
    const { namespace, name, identity } = this.#options;
    const now = new V1MicroTime(); // MicroTime: the API server refuses millisecond timestamps on Leases
    const durationSeconds = Math.ceil(this.#options.leaseDurationMs / 1000);
    let lease: V1Lease;
    try {
      lease = await this.#api.readNamespacedLease({ name, namespace });
    } catch (error) {
      if (!isNotFound(error)) return this.#failed(error);
      try {
        await this.#api.createNamespacedLease({
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
        });
        return true;
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
    if (heldByOther && Date.now() < expiresAt) return false;
    const transitions = (lease.spec?.leaseTransitions ?? 0) + (holder === identity ? 0 : 1);
    lease.spec = {
      holderIdentity: identity,
      leaseDurationSeconds: durationSeconds,
      acquireTime: holder === identity ? lease.spec?.acquireTime : now,
      renewTime: now,
      leaseTransitions: transitions,
    };
    try {
      await this.#api.replaceNamespacedLease({ name, namespace, body: lease });
      return true;
    } catch (error) {
      return this.#failed(error);
    }
  }

  #failed(error: unknown): false {
    // A conflict means another replica wrote first: expected, and settled on the next try.
    if (httpStatus(error) !== 409)
      this.#options.logger.warn({ err: (error as Error).message }, 'leader election request failed');
    return false;
  }
}

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
