import { defineConfig } from 'vitest/config';

// Three projects, by what a test needs:
//   unit     *.test.ts          pure logic, no servers
//   redis    *.redis.test.ts    a real redis-server started by the harness
//   cluster  *.cluster.test.ts  a real etcd + kube-apiserver (with the CRDs installed) and redis-server
//   e2e      *.e2e.test.ts      a real one-node cluster (scheduler, kubelet, containerd): real pods
const sources = ['operator/src/**', 'worker-runtime/src/**', 'testkit/src/**', 'e2e/src/**'];
const inSources = (pattern: string) => sources.map((dir) => `${dir}/${pattern}`);

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: inSources('*.test.ts'),
          exclude: inSources('*.redis.test.ts').concat(inSources('*.cluster.test.ts'), inSources('*.e2e.test.ts'), [
            '**/node_modules/**',
          ]),
          // A few unit tests start the real CLIs, which take seconds to load on a busy 2-core machine;
          // no test asserts a duration (benchmarks do that), so a generous limit costs nothing.
          testTimeout: 30_000,
        },
      },
      {
        test: {
          name: 'redis',
          include: inSources('*.redis.test.ts'),
          globalSetup: ['testkit/src/redis-global-setup.ts'],
          testTimeout: 60_000,
          hookTimeout: 60_000,
        },
      },
      {
        test: {
          name: 'cluster',
          include: inSources('*.cluster.test.ts'),
          globalSetup: ['testkit/src/redis-global-setup.ts', 'testkit/src/cluster-global-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
        },
      },
      {
        test: {
          name: 'e2e',
          include: inSources('*.e2e.test.ts'),
          globalSetup: ['e2e/src/harness/node-global-setup.ts'],
          // One node with 2 cores: test files take turns, each with its own namespace and Redis.
          fileParallelism: false,
          testTimeout: 240_000,
          hookTimeout: 240_000,
        },
      },
    ],
  },
});
