import { stringify } from 'yaml';
import { GROUP, KIND, PLURAL, VERSION, WorkerPoolSpecSchema, WorkerPoolStatusSchema } from './workerpool-schema.ts';

export const CRD_NAME = `${PLURAL}.${GROUP}`;
export const CRD_FILE = 'crds/workerpool.dev_workerpools.yaml';

/** Plain JSON of a schema: what the API server receives, without the builder's private markers. */
const plain = (schema: unknown): Record<string, unknown> => JSON.parse(JSON.stringify(schema)) as Record<string, unknown>;

/** The WorkerPool CustomResourceDefinition, built from the API schemas. */
export function buildWorkerPoolCrd(): Record<string, unknown> {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: CRD_NAME, labels: { 'app.kubernetes.io/name': 'workerpool-operator', 'app.kubernetes.io/part-of': 'workerpool-operator' } },
    spec: {
      group: GROUP,
      scope: 'Namespaced',
      names: { kind: KIND, listKind: `${KIND}List`, plural: PLURAL, singular: 'workerpool', shortNames: ['wp'], categories: ['all'] },
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
                apiVersion: { type: 'string', description: 'APIVersion defines the versioned schema of this representation of an object.' },
                kind: { type: 'string', description: 'Kind is a string value representing the REST resource this object represents.' },
                metadata: { type: 'object' },
                spec: plain(WorkerPoolSpecSchema),
                status: plain(WorkerPoolStatusSchema),
              },
            },
          },
          subresources: {
            status: {},
            scale: { specReplicasPath: '.spec.replicas', statusReplicasPath: '.status.replicas', labelSelectorPath: '.status.selector' },
          },
          additionalPrinterColumns: [
            { name: 'Format', type: 'string', jsonPath: '.spec.queue.format', description: 'Queue format.' },
            { name: 'Desired', type: 'integer', jsonPath: '.status.desiredReplicas', description: 'Replicas the operator decided on.' },
            { name: 'Ready', type: 'integer', jsonPath: '.status.readyReplicas', description: 'Ready worker replicas.' },
            { name: 'Depth', type: 'integer', jsonPath: '.status.queue.depth', description: 'Jobs waiting.' },
            { name: 'Latency', type: 'number', jsonPath: '.status.queue.oldestJobAgeSeconds', description: 'Age of the oldest waiting job, seconds.' },
            { name: 'Status', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].reason', description: 'Reason of the Ready condition.', priority: 1 },
            { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' },
          ],
        },
      ],
    },
  };
}

export function renderWorkerPoolCrd(): string {
  const header = '# Generated from operator/src/api/workerpool-schema.ts by `npm run generate:crd`. Do not edit by hand.\n';
  return header + stringify(buildWorkerPoolCrd(), { lineWidth: 0 });
}
