import { stringify } from 'yaml';
import { GROUP, KIND, PLURAL, VERSION, WorkerPoolSpecSchema, WorkerPoolStatusSchema } from './workerpool-schema.ts';

export const CRD_NAME = `${PLURAL}.${GROUP}`;
export const CRD_FILE = 'crds/workerpool.dev_workerpools.yaml';

type JsonSchema = { properties?: Record<string, JsonSchema>; items?: JsonSchema; required?: string[] } & Record<
  string,
  unknown
>;

/**
 * Plain JSON of a schema, as the API server wants it. A field with a default is typed as present
 * (the API server fills it before anyone reads the object) but must not be listed as required,
 * because the API server checks each default against the schema without its siblings' defaults.
 * For the same reason an object defaulted to {} gets its children's defaults spelled out, so that
 * its CEL rules see every field.
 */
const isEmptyObject = (value: unknown) =>
  value !== null && typeof value === 'object' && !Array.isArray(value) && Object.keys(value).length === 0;

function childDefaults(node: JsonSchema): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, child] of Object.entries(node.properties ?? {})) {
    if (child['default'] !== undefined) out[name] = child['default'];
  }
  return out;
}

function plain(schema: unknown): JsonSchema {
  const relax = (node: JsonSchema): JsonSchema => {
    for (const child of Object.values(node.properties ?? {})) relax(child);
    if (node.items) relax(node.items);
    if (isEmptyObject(node['default'])) node['default'] = childDefaults(node);
    if (node.required) {
      node.required = node.required.filter((name) => node.properties?.[name]?.['default'] === undefined);
      if (node.required.length === 0) delete node.required;
    }
    return node;
  };
  return relax(JSON.parse(JSON.stringify(schema)) as JsonSchema);
}

/** The WorkerPool CustomResourceDefinition, built from the API schemas. */
export function buildWorkerPoolCrd(): Record<string, unknown> {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: {
      name: CRD_NAME,
      labels: { 'app.kubernetes.io/name': 'workerpool-operator', 'app.kubernetes.io/part-of': 'workerpool-operator' },
    },
    spec: {
      group: GROUP,
      scope: 'Namespaced',
      names: {
        kind: KIND,
        listKind: `${KIND}List`,
        plural: PLURAL,
        singular: 'workerpool',
        shortNames: ['wp'],
        categories: ['all'],
      },
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          schema: {
            openAPIV3Schema: {
              type: 'object',
              description:
                'A WorkerPool runs background-job workers and scales them so that jobs start within a target latency, reading queue depth and latency from Redis (native, Sidekiq, BullMQ, list or stream).',
              required: ['spec'],
              properties: {
                apiVersion: {
                  type: 'string',
                  description: 'APIVersion defines the versioned schema of this representation of an object.',
                },
                kind: {
                  type: 'string',
                  description: 'Kind is a string value representing the REST resource this object represents.',
                },
                metadata: { type: 'object' },
                spec: plain(WorkerPoolSpecSchema),
                status: plain(WorkerPoolStatusSchema),
              },
            },
          },
          subresources: {
            status: {},
            scale: {
              specReplicasPath: '.spec.replicas',
              statusReplicasPath: '.status.replicas',
              labelSelectorPath: '.status.selector',
            },
          },
          additionalPrinterColumns: [
            { name: 'Format', type: 'string', jsonPath: '.spec.queue.format', description: 'Queue format.' },
            {
              name: 'Desired',
              type: 'integer',
              jsonPath: '.status.desiredReplicas',
              description: 'Replicas the operator decided on.',
            },
            {
              name: 'Ready',
              type: 'integer',
              jsonPath: '.status.readyReplicas',
              description: 'Ready worker replicas.',
            },
            { name: 'Depth', type: 'integer', jsonPath: '.status.queue.depth', description: 'Jobs waiting.' },
            {
              name: 'Latency',
              type: 'number',
              jsonPath: '.status.queue.oldestJobAgeSeconds',
              description: 'Age of the oldest waiting job, seconds.',
            },
            {
              name: 'Status',
              type: 'string',
              jsonPath: '.status.conditions[?(@.type=="Ready")].reason',
              description: 'Reason of the Ready condition.',
              priority: 1,
            },
            { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
          ],
        },
      ],
    },
  };
}

export function renderWorkerPoolCrd(): string {
  const header =
    '# Generated from operator/src/api/workerpool-schema.ts by `npm run generate:crd`. Do not edit by hand.\n';
  return header + stringify(buildWorkerPoolCrd(), { lineWidth: 0 });
}
