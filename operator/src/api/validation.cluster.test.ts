import { CustomObjectsApi } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestNamespace, kubectl, testKubeConfig, type TestNamespace } from '@workerpool/testkit/cluster';
import { apiMessage } from '../controller/kube-errors.ts';
import { API_VERSION, GROUP, KIND, PLURAL, VERSION } from './workerpool-schema.ts';

// Every invalid WorkerPool must be refused by the API server itself (OpenAPI schema and CEL
// rules in the CRD), with a message that names the field, before the operator ever sees it.

const kubeConfig = testKubeConfig();
const custom = kubeConfig.makeApiClient(CustomObjectsApi);
let namespace: TestNamespace;
beforeAll(async () => {
  namespace = await createTestNamespace(kubeConfig);
});
afterAll(() => namespace?.delete());

type Json = Record<string, unknown>;
const validSpec = (): Json => ({
  template: { spec: { containers: [{ name: 'worker', image: 'worker:1' }] } },
  queue: { format: 'native', names: ['mail'], redis: { url: 'redis://redis:6379/0' } },
  scaling: { minReplicas: 0, maxReplicas: 5 },
});

async function dryRunCreate(spec: Json): Promise<string> {
  try {
    await custom.createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      plural: PLURAL,
      namespace: namespace.name,
      body: { apiVersion: API_VERSION, kind: KIND, metadata: { generateName: 'invalid-' }, spec },
      dryRun: 'All',
    });
    return 'accepted';
  } catch (error) {
    return apiMessage(error);
  }
}

/** Deep-merges a change into the valid spec; `null` removes a field. */
function changed(change: Json): Json {
  const merge = (base: Json, patch: Json): Json => {
    const out: Json = { ...base };
    for (const [key, value] of Object.entries(patch)) {
      if (value === null) delete out[key];
      else if (
        value &&
        typeof value === 'object' &&
        !Array.isArray(value) &&
        base[key] &&
        typeof base[key] === 'object'
      )
        out[key] = merge(base[key] as Json, value as Json);
      else out[key] = value;
    }
    return out;
  };
  return merge(validSpec(), change);
}

describe('WorkerPool validation by the API server', () => {
  it('accepts the valid pool the cases below are made from, and fills the defaults', async () => {
    expect(await dryRunCreate(validSpec())).toBe('accepted');
    const created = (await custom.createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      plural: PLURAL,
      namespace: namespace.name,
      body: {
        apiVersion: API_VERSION,
        kind: KIND,
        metadata: { name: 'defaults' },
        spec: { ...validSpec(), scaling: undefined },
      },
    })) as { spec: { scaling: Json } };
    expect(created.spec.scaling).toMatchObject({
      minReplicas: 1,
      maxReplicas: 10,
      targetLatencySeconds: 30,
      pollIntervalSeconds: 2,
      scaleDown: { stabilizationWindowSeconds: 45 },
      scaleToZeroAfterSeconds: 30,
    });
  });

  it('accepts per-queue targets for the queues the pool reads', async () => {
    const tiers = changed({
      queue: { names: ['critical', 'default'] },
      scaling: { targetLatencySeconds: 60, queueTargetLatencySeconds: { critical: 5, default: 60 } },
    });
    expect(await dryRunCreate(tiers)).toBe('accepted');
  });

  it.each([
    {
      case: 'neither template nor scaleTargetRef',
      change: { template: null },
      field: /spec: Invalid value.*exactly one of template or scaleTargetRef/,
    },
    {
      case: 'both template and scaleTargetRef',
      change: { scaleTargetRef: { kind: 'Deployment', name: 'x' } },
      field: /spec: Invalid value.*exactly one of template or scaleTargetRef/,
    },
    {
      case: 'a template without containers',
      change: { template: { spec: { containers: [] } } },
      field: /spec\.template\.spec\.containers/,
    },
    {
      case: 'a template without a pod spec',
      change: { template: { spec: null, metadata: {} } },
      field: /spec\.template\.spec: Required value/,
    },
    {
      case: 'scaleTargetRef of an unsupported kind',
      change: { template: null, scaleTargetRef: { kind: 'StatefulSet', name: 'x' } },
      field: /spec\.scaleTargetRef\.kind: Unsupported value: "StatefulSet"/,
    },
    {
      case: 'scaleTargetRef without a name',
      change: { template: null, scaleTargetRef: { kind: 'Deployment' } },
      field: /spec\.scaleTargetRef\.name: Required value/,
    },
    { case: 'no queue', change: { queue: null }, field: /spec\.queue: Required value/ },
    {
      case: 'an unknown queue format',
      change: { queue: { format: 'resque' } },
      field: /spec\.queue\.format: Unsupported value: "resque"/,
    },
    {
      case: 'no queue names',
      change: { queue: { names: [] } },
      field: /spec\.queue\.names: Invalid value.*at least 1 item/,
    },
    {
      case: 'an empty queue name',
      change: { queue: { names: [''] } },
      field:
        /spec\.queue\.names\[0\]: Invalid value: "": spec\.queue\.names\[0\] in body should be at least 1 chars long/,
    },
    {
      case: 'a queue named twice',
      change: { queue: { names: ['mail', 'mail'] } },
      field: /spec\.queue\.names\[1\]: Duplicate value: "mail"/,
    },
    {
      case: 'no redis endpoint',
      change: { queue: { redis: { url: null } } },
      field: /spec\.queue\.redis: Invalid value.*exactly one of url, sentinel or cluster/,
    },
    {
      case: 'two redis endpoints',
      change: { queue: { redis: { url: 'redis://r:6379', cluster: { endpoints: ['r:6379'] } } } },
      field: /spec\.queue\.redis: Invalid value.*exactly one of url, sentinel or cluster/,
    },
    {
      case: 'a redis URL of another scheme',
      change: { queue: { redis: { url: 'http://redis:6379' } } },
      field: /spec\.queue\.redis\.url: Invalid value: "http:\/\/redis:6379"/,
    },
    {
      case: 'a password inside the redis URL',
      change: { queue: { redis: { url: 'redis://:hunter2@redis:6379' } } },
      field: /spec\.queue\.redis\.url: Invalid value.*must not contain credentials/,
    },
    {
      case: 'a sentinel endpoint without a port',
      change: { queue: { redis: { url: null, sentinel: { masterName: 'm', endpoints: ['sentinel'] } } } },
      field: /spec\.queue\.redis\.sentinel\.endpoints\[0\]/,
    },
    {
      case: 'a password secret reference without a key',
      change: { queue: { redis: { passwordSecretRef: { name: 'redis-auth' } } } },
      field: /spec\.queue\.redis\.passwordSecretRef\.key: Required value/,
    },
    {
      case: 'format stream without a consumer group',
      change: { queue: { format: 'stream' } },
      field: /spec\.queue\.stream: Required value.*format stream needs stream\.consumerGroup/,
    },
    {
      case: 'stream settings on a native queue',
      change: { queue: { stream: { consumerGroup: 'g' } } },
      field: /spec\.queue\.stream: Forbidden.*only to format stream/,
    },
    {
      case: 'list settings on a native queue',
      change: { queue: { list: { timestampField: 'at' } } },
      field: /spec\.queue\.list: Forbidden.*only to format list/,
    },
    {
      case: 'a key prefix on a list queue',
      change: { queue: { format: 'list', keyPrefix: 'x' } },
      field: /spec\.queue\.keyPrefix: Forbidden/,
    },
    {
      case: 'an unknown timestamp unit',
      change: { queue: { format: 'list', list: { timestampField: 'at', timestampUnit: 'hours' } } },
      field: /spec\.queue\.list\.timestampUnit: Unsupported value: "hours"/,
    },
    {
      case: 'minReplicas above maxReplicas',
      change: { scaling: { minReplicas: 6, maxReplicas: 5 } },
      field: /spec\.scaling\.minReplicas: Invalid value.*minReplicas must not exceed maxReplicas/,
    },
    {
      case: 'negative minReplicas',
      change: { scaling: { minReplicas: -1 } },
      field: /spec\.scaling\.minReplicas: Invalid value: -1/,
    },
    {
      case: 'zero maxReplicas',
      change: { scaling: { maxReplicas: 0 } },
      field: /spec\.scaling\.maxReplicas: Invalid value: 0/,
    },
    {
      case: 'zero concurrency',
      change: { scaling: { concurrency: 0 } },
      field: /spec\.scaling\.concurrency: Invalid value: 0/,
    },
    {
      case: 'a zero latency target',
      change: { scaling: { targetLatencySeconds: 0 } },
      field: /spec\.scaling\.targetLatencySeconds: Invalid value: 0/,
    },
    {
      case: 'a fractional poll interval',
      change: { scaling: { pollIntervalSeconds: 1.5 } },
      field: /spec\.scaling\.pollIntervalSeconds: Invalid value: "number"/,
    },
    {
      case: 'a poll interval of ten minutes',
      change: { scaling: { pollIntervalSeconds: 600 } },
      field: /spec\.scaling\.pollIntervalSeconds: Invalid value: 600/,
    },
    {
      case: 'a scale-up policy of an unknown type',
      change: { scaling: { scaleUp: { policies: [{ type: 'Nodes', value: 1, periodSeconds: 15 }] } } },
      field: /spec\.scaling\.scaleUp\.policies\[0\]\.type: Unsupported value: "Nodes"/,
    },
    {
      case: 'a scale-down policy without a period',
      change: { scaling: { scaleDown: { policies: [{ type: 'Pods', value: 1 }] } } },
      field: /spec\.scaling\.scaleDown\.policies\[0\]\.periodSeconds: Required value/,
    },
    {
      case: 'an unknown select policy',
      change: { scaling: { scaleDown: { selectPolicy: 'Average' } } },
      field: /spec\.scaling\.scaleDown\.selectPolicy: Unsupported value: "Average"/,
    },
    {
      case: 'a fallback above maxReplicas',
      change: { scaling: { fallback: { replicas: 9 } } },
      field: /spec\.scaling\.fallback\.replicas: Invalid value.*must not exceed maxReplicas/,
    },
    {
      case: 'a queue target for a queue the pool does not read',
      change: { scaling: { queueTargetLatencySeconds: { urgent: 5 } } },
      field: /spec\.scaling\.queueTargetLatencySeconds: Invalid value.*queue "urgent" is not one of queue\.names/,
    },
    {
      case: 'a queue target of 0',
      change: { scaling: { queueTargetLatencySeconds: { mail: 0 } } },
      field: /spec\.scaling\.queueTargetLatencySeconds\.mail: Invalid value: 0/,
    },
    {
      case: 'a queue target looser than the pool target',
      change: { scaling: { targetLatencySeconds: 30, queueTargetLatencySeconds: { mail: 60 } } },
      field: /spec\.scaling\.queueTargetLatencySeconds: Invalid value.*must not exceed targetLatencySeconds/,
    },
    { case: 'a negative manual pin', change: { replicas: -2 }, field: /spec\.replicas: Invalid value: -2/ },
    { case: 'paused as a string', change: { paused: 'yes' }, field: /spec\.paused: Invalid value: "string"/ },
  ])('rejects $case, naming the field', async ({ change, field }) => {
    expect(await dryRunCreate(changed(change))).toMatch(field);
  });

  it('teaches a new user through kubectl explain', () => {
    const explained = kubectl(['explain', 'workerpool.spec.scaling']);
    expect(explained.status).toBe(0);
    expect(explained.stdout).toMatch(/targetLatencySeconds\s+<number>/);
    expect(explained.stdout).toMatch(/a job should start within this many seconds/);
    expect(kubectl(['explain', 'wp.spec.scaling.queueTargetLatencySeconds']).stdout).toMatch(
      /Latency targets of single queues, tighter than targetLatencySeconds/,
    );
    expect(kubectl(['explain', 'wp.spec.queue.format']).stdout).toMatch(/native \(this project's worker-runtime\)/);
  });
});

/**
 * A large but real worker template: a worker, a log shipper and a metrics sidecar with 60
 * settings each, two init containers, seven volumes, scheduling rules and a 4 KB config annotation.
 */
function realisticTemplate(): Json {
  const env = (prefix: string) => [
    ...Array.from({ length: 60 }, (_, i) => ({
      name: `${prefix}_SETTING_${i}`,
      value: `value-${i}-`.padEnd(120, 'x'),
    })),
    { name: `${prefix}_PASSWORD`, valueFrom: { secretKeyRef: { name: 'app-secrets', key: 'password' } } },
    { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
  ];
  const container = (name: string, prefix: string) => ({
    name,
    image: `registry.example/billing/${name}:2026.12.1`,
    args: ['--config', '/etc/app/config.yaml', '--log-format', 'json'],
    env: env(prefix),
    envFrom: [{ configMapRef: { name: 'billing-config' } }],
    resources: { requests: { cpu: '250m', memory: '512Mi' }, limits: { memory: '1Gi' } },
    readinessProbe: { httpGet: { path: '/ready', port: 9090 }, periodSeconds: 5 },
    livenessProbe: { httpGet: { path: '/live', port: 9090 }, periodSeconds: 10, failureThreshold: 6 },
    volumeMounts: [
      { name: 'config', mountPath: '/etc/app' },
      { name: 'tmp', mountPath: '/tmp' },
    ],
  });
  return {
    metadata: {
      labels: Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`billing.example/label-${i}`, `v${i}`])),
      annotations: { 'billing.example/config': 'k: v\n'.repeat(800), 'prometheus.io/scrape': 'true' },
    },
    spec: {
      serviceAccountName: 'billing-worker',
      terminationGracePeriodSeconds: 120,
      initContainers: [container('migrate', 'MIGRATE'), container('warm-cache', 'WARM')],
      containers: [container('worker', 'WORKER'), container('log-shipper', 'LOGS'), container('exporter', 'METRICS')],
      volumes: [
        { name: 'config', configMap: { name: 'billing-config' } },
        { name: 'tmp', emptyDir: { sizeLimit: '1Gi' } },
        { name: 'secrets', secret: { secretName: 'app-secrets' } },
        {
          name: 'token',
          projected: { sources: [{ serviceAccountToken: { path: 'token', expirationSeconds: 3600 } }] },
        },
        { name: 'cache', emptyDir: {} },
        { name: 'certs', secret: { secretName: 'billing-tls' } },
        { name: 'shared', persistentVolumeClaim: { claimName: 'billing-shared' } },
      ],
      affinity: {
        podAntiAffinity: {
          preferredDuringSchedulingIgnoredDuringExecution: [
            {
              weight: 100,
              podAffinityTerm: { topologyKey: 'kubernetes.io/hostname', labelSelector: { matchLabels: { a: 'b' } } },
            },
          ],
        },
      },
      tolerations: [{ key: 'workload', operator: 'Equal', value: 'batch', effect: 'NoSchedule' }],
      topologySpreadConstraints: [
        { maxSkew: 1, topologyKey: 'topology.kubernetes.io/zone', whenUnsatisfiable: 'ScheduleAnyway' },
      ],
    },
  };
}

describe("the pod template's bounds", () => {
  it('accepts a large real template: five containers with env, volumes and scheduling rules', async () => {
    const template = realisticTemplate();
    expect(JSON.stringify(template).length).toBeGreaterThan(40_000);
    expect(await dryRunCreate(changed({ template }))).toBe('accepted');
  });

  const withWorker = (worker: Json): Json => {
    const template = realisticTemplate() as { spec: { containers: Json[] } };
    template.spec.containers[0] = { ...template.spec.containers[0], ...worker };
    return changed({ template });
  };
  const spareEnv = (count: number, length: number) =>
    Array.from({ length: count }, (_, i) => ({ name: `V${i}`, value: 'x'.repeat(length) }));

  it.each([
    {
      case: 'a container with 300 environment variables',
      spec: () => withWorker({ env: spareEnv(300, 10) }),
      field: /spec\.template\.spec\.containers\[0\]\.env: Too many: 300: must have at most 256 items/,
    },
    {
      case: 'a container whose env values total 80,000 characters',
      spec: () => withWorker({ env: spareEnv(5, 16_000) }),
      field: /spec\.template\.spec\.containers\[0\]\.env: Invalid value.*must total at most 65536 characters/,
    },
    {
      case: 'an env value of 20,000 characters',
      spec: () => withWorker({ env: spareEnv(1, 20_000) }),
      field: /spec\.template\.spec\.containers\[0\]\.env\[0\]\.value: Too long/,
    },
    {
      case: '40 containers',
      spec: () =>
        changed({ template: { spec: { containers: Array.from({ length: 40 }, (_, i) => ({ name: `c${i}` })) } } }),
      field: /spec\.template\.spec\.containers: Too many: 40: must have at most 32 items/,
    },
    {
      case: '300 volumes',
      spec: () =>
        changed({
          template: {
            spec: {
              containers: [{ name: 'w' }],
              volumes: Array.from({ length: 300 }, (_, i) => ({ name: `v${i}`, emptyDir: {} })),
            },
          },
        }),
      field: /spec\.template\.spec\.volumes: Too many: 300: must have at most 256 items/,
    },
    {
      case: 'an annotation of 20,000 characters',
      spec: () =>
        changed({ template: { metadata: { annotations: { big: 'x'.repeat(20_000) } }, spec: { containers: [{}] } } }),
      field: /spec\.template\.metadata\.annotations\.big: Too long/,
    },
    {
      case: 'an argument of 20,000 characters',
      spec: () => withWorker({ args: ['x'.repeat(20_000)] }),
      field: /spec\.template\.spec\.containers\[0\]\.args\[0\]: Too long/,
    },
  ])('refuses $case, naming the field', async ({ spec, field }) => {
    expect(await dryRunCreate(spec())).toMatch(field);
  });
});
