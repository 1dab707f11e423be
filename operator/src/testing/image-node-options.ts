import { readFileSync } from 'node:fs';

// The operator's V8 flags have one home, the image's `ENV NODE_OPTIONS` line: the benchmark reads
// them from there, so that it measures the operator as users run it, and with no flag they lack.

export function imageNodeOptions(dockerfilePath: string): string {
  const line = /^ENV NODE_OPTIONS="([^"]*)"$/m.exec(readFileSync(dockerfilePath, 'utf8'));
  if (!line?.[1]) throw new Error(`${dockerfilePath} has no ENV NODE_OPTIONS="..." line to launch the operator with`);
  return line[1];
}
