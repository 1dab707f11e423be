import type { RunSummary } from './run-summary.ts';

// The comparison table, one row per policy against the oracle: printed by the scaling benchmark
// and by `workerpool-operator simulate --compare`, from this one place.

export function pad(text: string, width: number, right = false): string {
  return right ? text.padStart(width) : text.padEnd(width);
}

/** Cells padded to their widths; the first column left-aligned, the numbers right-aligned. */
export function tableRow(cells: string[], widths: number[]): string {
  return cells.map((cell, index) => pad(cell, widths[index] ?? 10, index > 0)).join('  ');
}

const HEADER = [
  'policy',
  'replica-s',
  'x oracle',
  '% > target',
  'p99 wait s',
  'scale events',
  'interrupted',
  're-run s',
];
const WIDTHS = [52, 10, 8, 10, 10, 12, 11, 8];

function summaryRow(summary: RunSummary, oracleReplicaSeconds: number): string {
  return tableRow(
    [
      summary.policy,
      summary.replicaSeconds.toFixed(0),
      (summary.replicaSeconds / oracleReplicaSeconds).toFixed(2),
      summary.overTargetPercent.toFixed(2),
      summary.p99WaitSeconds.toFixed(1),
      String(summary.scaleEvents),
      String(summary.interruptedJobs),
      summary.rerunSeconds.toFixed(0),
    ],
    WIDTHS,
  );
}

export interface ComparisonRows {
  policies: readonly RunSummary[];
  oracle: RunSummary;
  workBoundReplicaSeconds: number;
}

/** Header, one row per policy, the oracle and the work bound. */
export function formatComparisonTable(rows: ComparisonRows): string[] {
  const oracleSeconds = rows.oracle.replicaSeconds;
  return [
    tableRow(HEADER, WIDTHS),
    ...rows.policies.map((summary) => summaryRow(summary, oracleSeconds)),
    summaryRow(rows.oracle, oracleSeconds),
    tableRow(
      [
        'work bound (service time / concurrency)',
        rows.workBoundReplicaSeconds.toFixed(0),
        (rows.workBoundReplicaSeconds / oracleSeconds).toFixed(2),
      ],
      WIDTHS,
    ).trimEnd(),
  ];
}
