import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CRD_FILE, renderWorkerPoolCrd } from './crd.ts';

const repositoryRoot = join(import.meta.dirname, '..', '..', '..');
writeFileSync(join(repositoryRoot, CRD_FILE), renderWorkerPoolCrd());
console.log(`wrote ${CRD_FILE}`);
