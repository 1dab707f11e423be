import { mkdirSync, writeFileSync } from 'node:fs';
import type { PredictiveMode, ScalingSpec } from '../src/api/workerpool-schema.ts';
import { traceDurationSeconds, traceEpochMs } from '../src/simulator/arrival-trace.ts';
import { runOracle } from '../src/simulator/baselines/oracle.ts';
import { formatComparisonTable } from '../src/simulator/comparison-table.ts';
import { enginePolicy, ENGINE_POLICY_NAME } from '../src/simulator/engine-policy.ts';
import { generateJobs, workBoundReplicaSeconds } from '../src/simulator/jobs.ts';
import { summarize, type RunSummary } from '../src/simulator/run-summary.ts';
import { simulate } from '../src/simulator/simulation.ts';
import { engineScaling } from './scaling/policies.ts';
import type { Scenario } from './scaling/scenarios.ts';
import { predictiveScenarios } from './predictive/weeks.ts';

// npm run bench:predictive — scaling.predictive on a week with a daily pattern and a week without
// one: the engine with the schema's defaults (predictive disabled), shadow (must decide exactly as
// disabled) and enabled, against the offline oracle. Prints a table per week with the CPU time each run took,
// and writes bench-results/predictive.json.

const outputDirectory = new URL('../../bench-results/', import.meta.url);
mkdirSync(outputDirectory, { recursive: true });

const MODES: readonly PredictiveMode[] = ['disabled', 'shadow', 'enabled'];

function scalingWith(scenario: Scenario, mode: PredictiveMode): ScalingSpec {
  return { ...engineScaling(scenario), predictive: mode };
}

interface WeekResult {
  scenario: string;
  jobs: number;
  runs: (RunSummary & { seconds: number })[];
  oracle: RunSummary & { seconds: number };
  workBoundReplicaSeconds: number;
  gain: { replicaSecondsPercent: number; overTargetPoints: number };
}

/** CPU seconds (user + system) of the run: wall time says little on a shared machine. */
function timed<T>(run: () => T): { value: T; seconds: number } {
  const started = process.cpuUsage();
  const value = run();
  const used = process.cpuUsage(started);
  return { value, seconds: (used.user + used.system) / 1e6 };
}

function runWeek(scenario: Scenario): WeekResult {
  const jobs = generateJobs({ trace: scenario.trace, service: scenario.service, seed: scenario.seed });
  const base = {
    ...jobs,
    concurrency: scenario.concurrency,
    podStartupSeconds: scenario.podStartupSeconds,
    initialReplicas: scenario.initialReplicas,
    endSeconds: traceDurationSeconds(scenario.trace),
    epochMs: traceEpochMs(scenario.trace),
  };
  const runs = MODES.map((mode) => {
    const policy = enginePolicy(scalingWith(scenario, mode), { name: `${ENGINE_POLICY_NAME}, predictive ${mode}` });
    const { value, seconds } = timed(() => simulate({ ...base, policy }));
    const summary = summarize(value, scenario.targetSeconds);
    // Progress while the oracle, which takes longest, still runs.
    console.error(
      `${scenario.name}: ${policy.name}: ${summary.replicaSeconds.toFixed(0)} replica-s, ${summary.overTargetPercent.toFixed(2)} % over target, ${summary.scaleEvents} scale events (${seconds.toFixed(1)} CPU s)`,
    );
    return { ...summary, seconds };
  });
  const oracleRun = timed(() =>
    runOracle(base, {
      targetSeconds: scenario.targetSeconds,
      concurrency: scenario.concurrency,
      minReplicas: scenario.minReplicas,
      maxReplicas: scenario.maxReplicas,
    }),
  );
  const off = runs[0] as RunSummary;
  const on = runs[2] as RunSummary;
  return {
    scenario: scenario.name,
    jobs: jobs.arrivals.length,
    runs,
    oracle: { ...summarize(oracleRun.value.result, scenario.targetSeconds), seconds: oracleRun.seconds },
    workBoundReplicaSeconds: workBoundReplicaSeconds(jobs, scenario.concurrency),
    gain: {
      replicaSecondsPercent: (100 * (off.replicaSeconds - on.replicaSeconds)) / off.replicaSeconds,
      overTargetPoints: off.overTargetPercent - on.overTargetPercent,
    },
  };
}

const only = process.argv[2];
const results: WeekResult[] = [];
for (const scenario of predictiveScenarios()) {
  if (only !== undefined && scenario.name !== only) continue;
  const result = runWeek(scenario);
  results.push(result);
  console.log(`== ${scenario.name}: ${scenario.description} (${result.jobs} jobs)`);
  for (const line of formatComparisonTable({
    policies: result.runs,
    oracle: result.oracle,
    workBoundReplicaSeconds: result.workBoundReplicaSeconds,
  }))
    console.log(line);
  console.log(
    `CPU seconds to simulate the week: ${[...result.runs, result.oracle].map((run) => `${run.policy} ${run.seconds.toFixed(1)} s`).join(', ')}`,
  );
  console.log(
    `predictive enabled against disabled: ${result.gain.replicaSecondsPercent.toFixed(2)} % fewer replica-seconds, ${result.gain.overTargetPoints.toFixed(2)} points fewer jobs over the target\n`,
  );
}
writeFileSync(
  new URL('predictive.json', outputDirectory),
  `${JSON.stringify({ generatedAt: new Date().toISOString(), weeks: results }, null, 2)}\n`,
);
