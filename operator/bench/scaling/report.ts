import { ENGINE_POLICY_NAME } from '../../src/simulator/engine-policy.ts';
import type { RunSummary } from '../../src/simulator/run-summary.ts';
import type { ScenarioResult } from './run-scenario.ts';

// The benchmark's table and its verdict against the product target: on every trace the engine
// keeps >= 99 % of jobs within the target, uses fewer replica-seconds than every baseline that
// also does, and at most 1.25x the oracle.

export const REQUIRED_WITHIN_TARGET_PERCENT = 99;
export const MAX_ORACLE_RATIO = 1.25;

function pad(text: string, width: number, right = false): string {
  return right ? text.padStart(width) : text.padEnd(width);
}

function row(cells: string[], widths: number[]): string {
  return cells.map((cell, index) => pad(cell, widths[index] ?? 10, index > 0)).join('  ');
}

const HEADER = ['policy', 'replica-s', 'x oracle', '% > target', 'p99 wait s', 'scale events'];
const WIDTHS = [46, 10, 8, 10, 10, 12];

function summaryRow(summary: RunSummary, oracleReplicaSeconds: number): string {
  return row(
    [
      summary.policy,
      summary.replicaSeconds.toFixed(0),
      (summary.replicaSeconds / oracleReplicaSeconds).toFixed(2),
      summary.overTargetPercent.toFixed(2),
      summary.p99WaitSeconds.toFixed(1),
      String(summary.scaleEvents),
    ],
    WIDTHS,
  );
}

export interface Verdict {
  met: boolean;
  notes: string[];
}

export function verdict(result: ScenarioResult): Verdict {
  const notes: string[] = [];
  const engine = result.policies.find((summary) => summary.policy === ENGINE_POLICY_NAME);
  if (engine === undefined) return { met: false, notes: ['engine row missing'] };
  const meetsSlo = (summary: RunSummary) => 100 - summary.overTargetPercent >= REQUIRED_WITHIN_TARGET_PERCENT;
  if (!meetsSlo(engine)) notes.push(`engine kept only ${(100 - engine.overTargetPercent).toFixed(2)} % within target`);
  for (const baseline of result.policies) {
    if (baseline.policy.startsWith(ENGINE_POLICY_NAME) || !meetsSlo(baseline)) continue;
    if (baseline.replicaSeconds <= engine.replicaSeconds) notes.push(`${baseline.policy} meets the SLO with fewer replica-seconds`);
  }
  const ratio = engine.replicaSeconds / result.oracle.replicaSeconds;
  if (ratio > MAX_ORACLE_RATIO) notes.push(`engine uses ${ratio.toFixed(2)}x the oracle`);
  return { met: notes.length === 0, notes };
}

export function formatScenario(result: ScenarioResult): string {
  const lines = [
    `== ${result.scenario}: ${result.description} (${result.jobs} jobs, ${result.seconds.toFixed(1)} s to simulate)`,
    row(HEADER, WIDTHS),
    ...result.policies.map((summary) => summaryRow(summary, result.oracle.replicaSeconds)),
    summaryRow(result.oracle, result.oracle.replicaSeconds),
    row(['work bound (service time / concurrency)', result.workBoundReplicaSeconds.toFixed(0), (result.workBoundReplicaSeconds / result.oracle.replicaSeconds).toFixed(2), '', '', ''], WIDTHS),
  ];
  const judged = verdict(result);
  lines.push(judged.met ? 'target met: >= 99 % within target, cheapest of the policies that meet it, <= 1.25x oracle' : `target NOT met: ${judged.notes.join('; ')}`);
  return lines.join('\n');
}
