import { runTool } from './ecosystem-tools.ts';

// Flux's health of an object: the status sigs.k8s.io/cli-utils/pkg/kstatus computes, which Flux's
// kustomize-controller and helm-controller wait on (e2e/tools/kstatus-health, built by e2e/tools/build.sh).

export interface FluxHealth {
  /** InProgress, Current, Failed, Terminating, NotFound or Unknown. */
  status: string;
  message: string;
}

export function fluxHealth(object: unknown): FluxHealth {
  const run = runTool('kstatus-health', [], { input: JSON.stringify(object) });
  if (run.status !== 0) throw new Error(`kstatus failed: ${run.stderr}`);
  return JSON.parse(run.stdout) as FluxHealth;
}
