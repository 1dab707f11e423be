import {
  CoreV1Api,
  CustomObjectsApi,
  type KubernetesListObject,
  type V1ConfigMap,
  type V1ConfigMapList,
} from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestNamespace, testKubeConfig, type TestNamespace } from '@workerpool/testkit/cluster';
import { GROUP, PLURAL, VERSION, type WorkerPool } from '../api/workerpool-schema.ts';
import { createLogger } from '../logger.ts';
import { templatePool } from '../testing/fixtures.ts';
import { LIST_PAGE_SIZE, ResilientInformer } from './informer.ts';

// The informer on a real API server: it says it has synced only once its cache holds the first
// list, since the operator's readiness probe (and the tests' own waits) rely on that. client-node
// announces 'connect' before it lists, so that event alone would say so too early.

const kubeConfig = testKubeConfig();
const core = kubeConfig.makeApiClient(CoreV1Api);
const custom = kubeConfig.makeApiClient(CustomObjectsApi);
let namespace: TestNamespace;
beforeAll(async () => {
  namespace = await createTestNamespace(kubeConfig);
  await core.createNamespacedConfigMap({
    namespace: namespace.name,
    body: { metadata: { name: 'present' }, data: { a: '1' } },
  });
});
afterAll(async () => {
  await namespace?.delete();
});

describe('ResilientInformer', () => {
  it('has not synced while its first list is under way, and has once the cache holds it', async () => {
    let releaseList: () => void = () => undefined;
    const listHeld = new Promise<void>((resolve) => (releaseList = resolve));
    let listStarted = false;
    const informer = new ResilientInformer<V1ConfigMap>({
      name: 'configmaps',
      kubeConfig,
      path: `/api/v1/namespaces/${namespace.name}/configmaps`,
      list: async (): Promise<V1ConfigMapList> => {
        listStarted = true;
        const list = await core.listNamespacedConfigMap({ namespace: namespace.name });
        await listHeld;
        return list;
      },
      onChange: () => undefined,
      onDelete: () => undefined,
      logger: createLogger('fatal'),
    });
    const started = informer.start();
    try {
      await expect
        .poll(() => listStarted, { timeout: 10_000, message: 'waited for the first list to start' })
        .toBe(true);
      expect(informer.hasSynced).toBe(false);
      expect(informer.get('present', namespace.name)).toBeUndefined();
      releaseList();
      await started;
      expect(informer.hasSynced).toBe(true);
      expect(informer.get('present', namespace.name)?.data).toEqual({ a: '1' });
    } finally {
      releaseList();
      await informer.stop();
    }
  });

  it('lists in pages of LIST_PAGE_SIZE, trimming each page before it reads the next', async () => {
    const count = 2 * LIST_PAGE_SIZE + 3;
    await Promise.all(
      Array.from({ length: count }, (_, i) =>
        core.createNamespacedConfigMap({
          namespace: namespace.name,
          body: { metadata: { name: `paged-${i}` }, data: { big: 'x'.repeat(1_000) } },
        }),
      ),
    );
    const pages: { size: number; untrimmedBefore: number }[] = [];
    let trimmed = 0;
    let seen = 0;
    const informer = new ResilientInformer<V1ConfigMap>({
      name: 'configmaps',
      kubeConfig,
      path: `/api/v1/namespaces/${namespace.name}/configmaps`,
      list: async (page) => {
        // Every item of the pages before this one was trimmed before this one was asked for.
        pages.push({ size: 0, untrimmedBefore: seen - trimmed });
        const list = await core.listNamespacedConfigMap({ namespace: namespace.name, ...page });
        (pages.at(-1) ?? { size: 0 }).size = list.items.length;
        seen += list.items.length;
        return list;
      },
      trim: (configMap) => {
        if (configMap.data) delete configMap.data['big'];
        trimmed++;
      },
      onChange: () => undefined,
      onDelete: () => undefined,
      logger: createLogger('fatal'),
    });
    try {
      await informer.start();
      const cached = informer.list(namespace.name).filter((c) => c.metadata?.name?.startsWith('paged-'));
      expect(cached).toHaveLength(count);
      expect(cached.every((c) => c.data?.['big'] === undefined)).toBe(true);
      expect(pages.length).toBeGreaterThanOrEqual(3);
      expect(pages.every((page) => page.size <= LIST_PAGE_SIZE && page.untrimmedBefore === 0)).toBe(true);
    } finally {
      await informer.stop();
    }
  });

  it('pages custom objects too, whose lists carry metadata.continue rather than _continue', async () => {
    const count = LIST_PAGE_SIZE + 5;
    await Promise.all(
      Array.from({ length: count }, (_, i) =>
        custom.createNamespacedCustomObject({
          group: GROUP,
          version: VERSION,
          plural: PLURAL,
          namespace: namespace.name,
          body: templatePool(namespace.name, `paged-${i}`),
        }),
      ),
    );
    let pages = 0;
    const informer = new ResilientInformer<WorkerPool>({
      name: 'workerpools',
      kubeConfig,
      path: `/apis/${GROUP}/${VERSION}/namespaces/${namespace.name}/${PLURAL}`,
      list: async (page) => {
        pages++;
        return (await custom.listNamespacedCustomObject({
          group: GROUP,
          version: VERSION,
          plural: PLURAL,
          namespace: namespace.name,
          ...page,
        })) as KubernetesListObject<WorkerPool>;
      },
      onChange: () => undefined,
      onDelete: () => undefined,
      logger: createLogger('fatal'),
    });
    try {
      await informer.start();
      expect(informer.list(namespace.name)).toHaveLength(count);
      expect(pages).toBe(2);
    } finally {
      await informer.stop();
    }
  });
});
