import { ENGINE_POLICY_NAME } from '../../src/simulator/engine-policy.ts';
import { formatComparisonTable, tableRow } from '../../src/simulator/comparison-table.ts';
import type { RunSummary } from '../../src/simulator/run-summary.ts';
import { signalProfile, type SignalProfileName } from '../../src/signals/signal-profile.ts';
import type { ScenarioResult } from './run-scenario.ts';

// The benchmark's tables and their verdict against the product target: on every trace the
// engine keeps >= 99 % of jobs within the target, uses fewer replica-seconds than every baseline
// that also does, at most 1.25x the oracle, with at most 2x the oracle's scale events. Each
// signal profile is judged on the same targets except the comparison with the baselines.

export const REQUIRED_WITHIN_TARGET_PERCENT = 99;
export const MAX_ORACLE_RATIO = 1.25;
export const MAX_ORACLE_SCALE_EVENTS_RATIO = 2;

export interface Verdict {
  met: boolean;
  notes: string[];
}

const meetsSlo = (summary: RunSummary) => 100 - summary.overTargetPercent >= REQUIRED_WITHIN_TARGET_PERCENT;

/** The targets every engine run is held to, whatever its profile. */
function engineNotes(engine: RunSummary, oracle: RunSummary): string[] {
  const notes: string[] = [];
  if (!meetsSlo(engine)) notes.push(`only ${(100 - engine.overTargetPercent).toFixed(2)} % within target`);
  const ratio = engine.replicaSeconds / oracle.replicaSeconds;
  if (ratio > MAX_ORACLE_RATIO) notes.push(`${ratio.toFixed(2)}x the oracle's replica-seconds`);
  const events = engine.scaleEvents / Math.max(1, oracle.scaleEvents);
  if (events > MAX_ORACLE_SCALE_EVENTS_RATIO)
    notes.push(`${engine.scaleEvents} scale events, ${events.toFixed(1)}x the oracle's ${oracle.scaleEvents}`);
  return notes;
}

export function verdict(result: ScenarioResult): Verdict {
  const engine = result.policies.find((summary) => summary.policy === ENGINE_POLICY_NAME);
  if (engine === undefined) return { met: false, notes: ['engine row missing'] };
  const notes = engineNotes(engine, result.oracle).map((note) => `engine: ${note}`);
  for (const baseline of result.policies) {
    if (baseline.policy.startsWith(ENGINE_POLICY_NAME) || !meetsSlo(baseline)) continue;
    if (baseline.replicaSeconds <= engine.replicaSeconds)
      notes.push(`${baseline.policy} meets the SLO with fewer replica-seconds`);
  }
  return { met: notes.length === 0, notes };
}

export function formatScenario(result: ScenarioResult): string {
  const lines = [
    `== ${result.scenario}: ${result.description} (${result.jobs} jobs, ${result.seconds.toFixed(1)} s to simulate)`,
    ...formatComparisonTable(result),
  ];
  const judged = verdict(result);
  lines.push(
    judged.met
      ? 'target met: >= 99 % within target, cheapest of the policies that meet it, <= 1.25x oracle, <= 2x its scale events'
      : `target NOT met: ${judged.notes.join('; ')}`,
  );
  return lines.join('\n');
}

const PROFILE_HEADER = [
  'trace',
  'replica-s',
  'x oracle',
  '% > target',
  'p99 wait s',
  'events',
  'x oracle',
  'interrupted',
  'verdict',
];
const PROFILE_WIDTHS = [12, 10, 8, 10, 10, 7, 8, 11, 0];

export interface ProfileVerdict {
  profile: SignalProfileName;
  scenario: string;
  met: boolean;
  notes: string[];
}

export function profileVerdicts(results: readonly ScenarioResult[]): ProfileVerdict[] {
  return results.flatMap((result) =>
    result.profiles.map((run) => {
      const notes = engineNotes(run.summary, result.oracle);
      return { profile: run.profile, scenario: result.scenario, met: notes.length === 0, notes };
    }),
  );
}

/** One table per signal profile: the engine on every trace with only that profile's signals. */
export function formatProfiles(results: readonly ScenarioResult[], profiles: readonly SignalProfileName[]): string {
  const verdicts = profileVerdicts(results);
  return profiles
    .map((profile) => {
      const lines = [
        `== signal profile ${profile}: ${signalProfile(profile).summary}`,
        tableRow(PROFILE_HEADER, PROFILE_WIDTHS),
      ];
      for (const result of results) {
        const run = result.profiles.find((candidate) => candidate.profile === profile);
        const judged = verdicts.find(
          (candidate) => candidate.profile === profile && candidate.scenario === result.scenario,
        );
        if (run === undefined || judged === undefined) continue;
        const summary = run.summary;
        lines.push(
          tableRow(
            [
              result.scenario,
              summary.replicaSeconds.toFixed(0),
              (summary.replicaSeconds / result.oracle.replicaSeconds).toFixed(2),
              summary.overTargetPercent.toFixed(2),
              summary.p99WaitSeconds.toFixed(1),
              String(summary.scaleEvents),
              (summary.scaleEvents / Math.max(1, result.oracle.scaleEvents)).toFixed(1),
              String(summary.interruptedJobs),
              judged.met ? 'met' : `NOT met: ${judged.notes.join('; ')}`,
            ],
            PROFILE_WIDTHS,
          ).trimEnd(),
        );
      }
      return lines.join('\n');
    })
    .join('\n\n');
}

/** Per trace and profile, in how many draws the engine met the targets (BENCH_SCALING_DRAWS). */
export interface DrawsMet {
  scenario: string;
  draws: number;
  met: Partial<Record<SignalProfileName, number>>;
}

/** Tallies the profile verdicts of every draw of one trace. */
export function tallyDraws(scenario: string, draws: readonly ProfileVerdict[][]): DrawsMet {
  const met: Partial<Record<SignalProfileName, number>> = {};
  for (const verdicts of draws)
    for (const judged of verdicts) met[judged.profile] = (met[judged.profile] ?? 0) + (judged.met ? 1 : 0);
  return { scenario, draws: draws.length, met };
}

/** One row per trace, one column per profile: draws met of draws run. */
export function formatDraws(tallies: readonly DrawsMet[], profiles: readonly SignalProfileName[]): string {
  const widths = [14, ...profiles.map((profile) => Math.max(8, profile.length + 2))];
  const lines = [
    `== draws met of ${tallies[0]?.draws ?? 0}, per signal profile (the first draw is the tables' run)`,
    tableRow(['trace', ...profiles], widths).trimEnd(),
  ];
  for (const tally of tallies)
    lines.push(
      tableRow(
        [tally.scenario, ...profiles.map((profile) => `${tally.met[profile] ?? 0}/${tally.draws}`)],
        widths,
      ).trimEnd(),
    );
  return lines.join('\n');
}
