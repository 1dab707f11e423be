import {
  ListWatch,
  Watch,
  type Informer,
  type KubeConfig,
  type KubernetesListObject,
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

/**
 * The longest wait between restarts of a failed watch. Once the API server is back, nothing the
 * informer watches is seen until its next restart, so this bounds how long a pool edited then
 * goes unreconciled; at client-go's 30 s that alone could break the 30 s promise in
 * docs/failure-modes.md. Two watches retried every 5 s cost a down API server nothing.
 */
const WATCH_RESTART_MAX_DELAY_MS = 5_000;

/**
 * Objects per list request. A list is read whole before any item in it can be trimmed: one
 * request for 1,000 pools of 100 KB templates is 100 MB of JSON, about three times that parsed,
 * more than the image's heap. A page of 25 is at most ~40 MB even of objects at etcd's 1.5 MB
 * limit, and 5,000 Deployments cost 200 requests at start and on a re-list.
 */
export const LIST_PAGE_SIZE = 25;

/** One page of a chunked list: the API server's `limit` and `continue`. */
export interface ListPage {
  limit: number;
  _continue?: string;
}

export interface ResilientInformerOptions<T extends KubernetesObject> {
  name: string;
  kubeConfig: KubeConfig;
  path: string;
  /** Lists one page; the informer asks for the next while the API server returns a continue token. */
  list: (page: ListPage) => Promise<KubernetesListObject<T>>;
  labelSelector?: string;
  /**
   * Trims each object before it is cached and handed to the handlers, so that the cache holds only
   * what the operator reads (managedFields are always dropped). It may change the object in place.
   * `previous` is the cached version the object replaces, if any, whose trimmed parts it may reuse.
   */
  trim?: (object: T, previous: T | undefined) => void;
  onChange: (object: T) => void;
  onDelete: (object: T) => void;
  /** Called for every cached object on each resync; onChange when omitted. */
  onResync?: (object: T) => void;
  /** Hand every cached object to onResync this often; omit for no resync. */
  resyncMs?: number;
  /** Called after each list but the first: the watch had expired (410 Gone) and the cache was rebuilt. */
  onRelist?: () => void;
  /**
   * Called when the informer is back after losing the API server: after a re-list (410 Gone),
   * and after a restart that followed a failed watch. Work that failed meanwhile can be retried.
   */
  onResumed?: () => void;
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
  #lists = 0;
  /** Failed watches so far: a restart succeeded when no new failure came before its start() returned. */
  #failures = 0;

  constructor(options: ResilientInformerOptions<T>) {
    this.#options = options;
    this.#informer = new ListWatch(
      options.path,
      new TrimmingWatch(options.kubeConfig, (object) => this.#trim(object as T)),
      () => this.#list(),
      false,
      options.labelSelector,
    );
    this.#informer.on('add', options.onChange);
    this.#informer.on('update', options.onChange);
    this.#informer.on('delete', options.onDelete);
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

  /**
   * client-node lists only at the start and after a watch was refused with 410 Gone (it forgets
   * its resourceVersion then and nowhere else), so every successful list after the first is a
   * re-list after expiry: said here, because client-node does it silently.
   */
  async #list(): ReturnType<ListPromise<T>> {
    // Pages of one consistent snapshot (the API server serves each continue token from the first
    // page's resourceVersion), each trimmed before the next is read.
    const result = await this.#options.list({ limit: LIST_PAGE_SIZE });
    result.items.forEach((item) => this.#trim(item));
    for (let next = continueToken(result); next;) {
      const page = await this.#options.list({ limit: LIST_PAGE_SIZE, _continue: next });
      for (const item of page.items) {
        this.#trim(item);
        result.items.push(item);
      }
      next = continueToken(page);
    }
    // client-node fills its cache from this result in the same run of microtasks, before any probe
    // request can be served. Its 'connect' event comes before the list, so it cannot say this.
    this.#synced = true;
    if (this.#lists++ > 0) {
      this.#options.logger.warn(
        { informer: this.#options.name, objects: result.items.length },
        'watch expired (410 Gone); re-listed',
      );
      this.#options.onRelist?.();
      this.#options.onResumed?.();
    }
    return result;
  }

  #trim(object: T | undefined): void {
    if (!object) return;
    stripManagedFields(object);
    const { name, namespace } = object.metadata ?? {};
    // The cache still holds the version this one replaces: the watch hands it over before storing it.
    this.#options.trim?.(object, name === undefined ? undefined : this.#informer.get(name, namespace));
  }

  #scheduleRestart(error: unknown): void {
    if (this.#stopped) return;
    this.#failures++;
    // A watch that ran for a while before failing starts its backoff afresh.
    if (Date.now() - this.#lastRestartAt > 60_000) this.#restartDelayMs = 0;
    this.#restartDelayMs = Math.min(
      this.#restartDelayMs > 0 ? this.#restartDelayMs * 2 : 500,
      WATCH_RESTART_MAX_DELAY_MS,
    );
    const message = error instanceof Error ? error.message : String(error);
    this.#options.logger.warn(
      { informer: this.#options.name, err: message, retryInMs: this.#restartDelayMs },
      'watch failed; restarting the informer',
    );
    clearTimeout(this.#restartTimer);
    this.#restartTimer = setTimeout(() => {
      this.#lastRestartAt = Date.now();
      const failuresBefore = this.#failures;
      // client-node reports a watch that could not connect through the error event, before
      // start() returns: a start() with no failure since is a watch that is running again.
      this.#informer.start().then(
        () => {
          if (this.#failures === failuresBefore && !this.#stopped) this.#options.onResumed?.();
        },
        (restartError: unknown) => this.#scheduleRestart(restartError),
      );
    }, this.#restartDelayMs);
  }
}

/**
 * The token for a list's next page. Typed lists (Deployments) come deserialized, as `_continue`;
 * custom objects come as the API server's JSON, where it is `continue`.
 */
function continueToken(list: KubernetesListObject<KubernetesObject>): string | undefined {
  const metadata: { _continue?: string; continue?: string } | undefined = list.metadata;
  return metadata?._continue ?? metadata?.continue;
}

/** The operator never reads managedFields; a copy of an object it keeps should not hold them. */
export function stripManagedFields(object: KubernetesObject | undefined): void {
  if (object?.metadata?.managedFields) delete object.metadata.managedFields;
}

/** Trims each watched object before the informer caches it and hands it to the handlers. */
class TrimmingWatch extends Watch {
  readonly #trim: (object: KubernetesObject | undefined) => void;

  constructor(kubeConfig: KubeConfig, trim: (object: KubernetesObject | undefined) => void) {
    super(kubeConfig);
    this.#trim = trim;
  }

  override watch(...[path, queryParams, callback, done]: Parameters<Watch['watch']>): ReturnType<Watch['watch']> {
    return super.watch(
      path,
      queryParams,
      (phase, object: KubernetesObject | undefined, event) => {
        this.#trim(object);
        callback(phase, object, event);
      },
      done,
    );
  }
}
