import { mkdirSync, writeFileSync } from 'node:fs';
import {
  POLLS_VARIABLE,
  PROFILES_VARIABLE,
  requestedHeartbeat,
  requestedPollsProfile,
  requestedProfiles,
} from './scaling/policies.ts';
import { formatProfiles, formatScenario, profileVerdicts, verdict } from './scaling/report.ts';
import { runScenario, type ScenarioResult } from './scaling/run-scenario.ts';
import { scenarios } from './scaling/scenarios.ts';

// npm run bench:scaling — every policy on every trace, on the simulator that drives the very
// engine code the operator runs, then the engine once per signal profile. Prints the tables, writes bench-results/scaling.json and one
// SVG chart per trace (bench-results/scaling-<trace>.svg). `[trace]` runs one trace only, and
// BENCH_SCALING_PROFILES=sidekiq,bullmq only those profile rows; BENCH_SCALING_POLLS=sidekiq
// also writes that profile's run poll by poll (bench-results/scaling-<trace>-<profile>-polls.csv;
// operator/bench/scaling/README.md).

const outputDirectory = new URL('../../bench-results/', import.meta.url);
mkdirSync(outputDirectory, { recursive: true });

const only = process.argv[2];
const profiles = requestedProfiles(process.env[PROFILES_VARIABLE]);
const heartbeat = requestedHeartbeat(process.env);
const pollsOf = requestedPollsProfile(process.env[POLLS_VARIABLE]);
if (only !== undefined && !scenarios().some((scenario) => scenario.name === only))
  throw new Error(
    `trace ${JSON.stringify(only)} is not one of ${scenarios()
      .map((scenario) => scenario.name)
      .join(', ')}`,
  );
const results: ScenarioResult[] = [];
for (const scenario of scenarios()) {
  if (only !== undefined && scenario.name !== only) continue;
  const result = runScenario(scenario, profiles, heartbeat, pollsOf);
  results.push(result);
  writeFileSync(new URL(`scaling-${scenario.name}.svg`, outputDirectory), result.chartSvg);
  if (result.pollLog !== undefined)
    writeFileSync(
      new URL(`scaling-${scenario.name}-${result.pollLog.profile}-polls.csv`, outputDirectory),
      result.pollLog.csv,
    );
  console.log(`${formatScenario(result)}\n`);
}

console.log(`${formatProfiles(results, profiles)}\n`);

const json = results.map(({ chartSvg: _chart, pollLog: _polls, ...rest }) => ({
  ...rest,
  verdict: verdict(rest as ScenarioResult),
}));
const judged = profileVerdicts(results);
writeFileSync(
  new URL('scaling.json', outputDirectory),
  `${JSON.stringify({ generatedAt: new Date().toISOString(), scenarios: json, profileVerdicts: judged }, null, 2)}\n`,
);
const failed = results.filter((result) => !verdict(result).met).map((result) => result.scenario);
console.log(failed.length === 0 ? 'all traces meet the target' : `traces not meeting the target: ${failed.join(', ')}`);
const profilesFailed = profiles.filter((profile) => judged.some((run) => run.profile === profile && !run.met));
console.log(
  profilesFailed.length === 0
    ? 'every signal profile meets the target on every trace'
    : `signal profiles not meeting the target on every trace: ${profilesFailed.join(', ')}`,
);
