import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CRD_FILE, buildWorkerPoolCrd, renderWorkerPoolCrd } from './crd.ts';

type Schema = {
  type?: string;
  description?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
};

/** Paths of fields that lack a description, which would leave `kubectl explain` silent. */
function undescribed(schema: Schema, path: string, out: string[]): string[] {
  if (path && !schema.description) out.push(path);
  for (const [name, child] of Object.entries(schema.properties ?? {})) undescribed(child, `${path}.${name}`, out);
  if (schema.items) undescribed(schema.items, `${path}[]`, out);
  return out;
}

describe('the WorkerPool CRD', () => {
  it('checked into crds/ is what the schema generates (run `npm run generate:crd` after changing the API)', () => {
    const checkedIn = readFileSync(join(import.meta.dirname, '..', '..', '..', CRD_FILE), 'utf8');
    expect(checkedIn).toBe(renderWorkerPoolCrd());
  });

  it('describes every spec and status field', () => {
    const crd = buildWorkerPoolCrd() as { spec: { versions: { schema: { openAPIV3Schema: Schema } }[] } };
    const root = crd.spec.versions[0]?.schema.openAPIV3Schema;
    if (!root?.properties) throw new Error('the CRD has no schema');
    const missing = [
      ...undescribed(root.properties['spec'] ?? {}, 'spec', []),
      ...undescribed(root.properties['status'] ?? {}, 'status', []),
    ];
    expect(missing).toEqual([]);
  });
});
