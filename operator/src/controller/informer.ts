import {
  ListWatch,
  Watch,
  type Informer,
  type KubeConfig,
  type KubernetesObject,
  type ListPromise,
  type ObjectCache,
} from '@kubernetes/client-node';
import type { Logger } from '../logger.ts';

// @kubernetes/client-node's informer re-lists on 410 Gone and resumes a watch that ends
// normally, but on any other error it emits `error` and stops for good. This wrapper restarts it
// with a capped backoff, and resyncs every object periodically (as client-go does) so that a
// missed event is repaired within the resync period. Cached objects drop metadata.managedFields
// (as client-go's TransformStripManagedFields does): the operator never reads them, and they were
// most of the cache's memory at 1,000 pools.

export interface ResilientInformerOptions<T extends KubernetesObject> {
  name: string;
  kubeConfig: KubeConfig;
  path: string;
  list: ListPromise<T>;
  labelSelector?: string;
  onChange: (object: T) => void;
  onDelete: (object: T) => void;
  /** Called for every cached object on each resync; onChange when omitted. */
  onResync?: (object: T) => void;
  /** Hand every cached object to onResync this often; omit for no resync. */
  resyncMs?: number;
  logger: Logger;
}

export class ResilientInformer<T extends KubernetesObject> {
  readonly #options: ResilientInformerOptions<T>;
  readonly #informer: Informer<T> & ObjectCache<T>;
  #restartDelayMs = 0;
  #lastRestartAt = 0;
  #restartTimer: NodeJS.Timeout | undefined;
  #resyncTimer: NodeJS.Timeout | undefined;
  #stopped = false;
  #synced = false;

  constructor(options: ResilientInformerOptions<T>) {
    this.#options = options;
    const list: ListPromise<T> = async () => {
      const listed = await options.list();
      listed.items.forEach(stripManagedFields);
      return listed;
    };
    this.#informer = new ListWatch(
      options.path,
      new StrippingWatch(options.kubeConfig),
      list,
      false,
      options.labelSelector,
    );
    this.#informer.on('add', options.onChange);
    this.#informer.on('update', options.onChange);
    this.#informer.on('delete', options.onDelete);
    this.#informer.on('connect', () => {
      this.#synced = true;
    });
    this.#informer.on('error', (error: unknown) => this.#scheduleRestart(error));
  }

  /** True once the first list has been received, so that the cache can be trusted. */
  get hasSynced(): boolean {
    return this.#synced;
  }

  async start(): Promise<void> {
    this.#stopped = false;
    await this.#informer.start();
    const { resyncMs, onChange, onResync = onChange } = this.#options;
    if (resyncMs !== undefined) {
      this.#resyncTimer = setInterval(() => this.list().forEach(onResync), resyncMs);
      this.#resyncTimer.unref();
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearTimeout(this.#restartTimer);
    clearInterval(this.#resyncTimer);
    await this.#informer.stop();
  }

  get(name: string, namespace: string): T | undefined {
    return this.#informer.get(name, namespace);
  }

  list(namespace?: string): readonly T[] {
    return this.#informer.list(namespace);
  }

  #scheduleRestart(error: unknown): void {
    if (this.#stopped) return;
    // A watch that ran for a while before failing starts its backoff afresh.
    if (Date.now() - this.#lastRestartAt > 60_000) this.#restartDelayMs = 0;
    this.#restartDelayMs = Math.min(this.#restartDelayMs > 0 ? this.#restartDelayMs * 2 : 500, 30_000);
    const message = error instanceof Error ? error.message : String(error);
    this.#options.logger.warn(
      { informer: this.#options.name, err: message, retryInMs: this.#restartDelayMs },
      'watch failed; restarting the informer',
    );
    clearTimeout(this.#restartTimer);
    this.#restartTimer = setTimeout(() => {
      this.#lastRestartAt = Date.now();
      this.#informer.start().catch((restartError: unknown) => this.#scheduleRestart(restartError));
    }, this.#restartDelayMs);
  }
}

/** The operator never reads managedFields; a copy of an object it keeps should not hold them. */
export function stripManagedFields(object: KubernetesObject | undefined): void {
  if (object?.metadata?.managedFields) delete object.metadata.managedFields;
}

/** Strips each watched object before the informer caches it and hands it to the handlers. */
class StrippingWatch extends Watch {
  override watch(...[path, queryParams, callback, done]: Parameters<Watch['watch']>): ReturnType<Watch['watch']> {
    return super.watch(
      path,
      queryParams,
      (phase, object: KubernetesObject | undefined, event) => {
        stripManagedFields(object);
        callback(phase, object, event);
      },
      done,
    );
  }
}
