import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CoreV1Api, type KubeConfig, type KubernetesObject } from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import { kubectl } from '@workerpool/testkit/cluster';
import { httpStatus } from '@workerpool/operator/controller/kube-errors';

// Helpers shared by the install tests: read the manifests as kustomize renders them, and make
// sure the namespaces they need exist on the shared test API server.

export const REPOSITORY_ROOT = join(import.meta.dirname, '..', '..', '..');
export const MANIFESTS = join(REPOSITORY_ROOT, 'manifests');
export const OPERATOR_NAMESPACE = 'workerpool-system';
export const OPERATOR_SERVICE_ACCOUNT = `system:serviceaccount:${OPERATOR_NAMESPACE}:workerpool-operator`;

/** A rendered object: the fields the install tests read, with the rest left open. */
export interface ManifestObject extends KubernetesObject {
  kind: string;
  metadata: NonNullable<KubernetesObject['metadata']> & { name: string };
  [field: string]: unknown;
}

/** Every object in a multi-document YAML text. */
export function parseManifests(text: string): ManifestObject[] {
  return parseAllDocuments(text)
    .map((document) => document.toJS() as ManifestObject | null)
    .filter((object): object is ManifestObject => object !== null);
}

export function readManifests(...pathInRepository: string[]): ManifestObject[] {
  return parseManifests(readFileSync(join(REPOSITORY_ROOT, ...pathInRepository), 'utf8'));
}

/** `kubectl kustomize <dir>`, as `kubectl apply -k` would render it. */
export function kustomize(dirInRepository: string): ManifestObject[] {
  const rendered = kubectl(['kustomize', join(REPOSITORY_ROOT, dirInRepository)]);
  if (rendered.status !== 0) throw new Error(`kubectl kustomize ${dirInRepository} failed: ${rendered.stderr}`);
  return parseManifests(rendered.stdout);
}

export function findObject(objects: readonly ManifestObject[], kind: string, name: string): ManifestObject {
  const found = objects.find((object) => object.kind === kind && object.metadata.name === name);
  if (!found)
    throw new Error(
      `no ${kind} ${name} among ${objects.map((object) => `${object.kind}/${object.metadata.name}`).join(', ')}`,
    );
  return found;
}

/** Creates a namespace unless it exists: tests in parallel files may race to create the same one. */
export async function ensureNamespace(
  kubeConfig: KubeConfig,
  name: string,
  labels: Record<string, string> = {},
): Promise<void> {
  const core = kubeConfig.makeApiClient(CoreV1Api);
  try {
    await core.createNamespace({ body: { metadata: { name, labels } } });
  } catch (error) {
    if (httpStatus(error) !== 409) throw error;
  }
}
