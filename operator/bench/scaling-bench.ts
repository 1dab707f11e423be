import { mkdirSync, writeFileSync } from 'node:fs';
import {
  DRAWS_VARIABLE,
  POLLS_VARIABLE,
  PROFILES_VARIABLE,
  requestedHeartbeat,
  requestedDraws,
  requestedPollsProfile,
  requestedProfiles,
  scenarioDraw,
} from './scaling/policies.ts';
import {
  formatDraws,
  formatProfiles,
  formatScenario,
  profileVerdicts,
  tallyDraws,
  verdict,
  type DrawsMet,
} from './scaling/report.ts';
import { runScenario, type ScenarioResult } from './scaling/run-scenario.ts';
import { scenarios } from './scaling/scenarios.ts';

// npm run bench:scaling — every policy on every trace, on the simulator that drives the very
// engine code the operator runs, then the engine once per signal profile. Prints the tables, writes bench-results/scaling.json and one
// SVG chart per trace (bench-results/scaling-<trace>.svg). `[trace]` runs one trace only, and
// BENCH_SCALING_PROFILES=sidekiq,bullmq only those profile rows; BENCH_SCALING_POLLS=sidekiq
// also writes that profile's run poll by poll (bench-results/scaling-<trace>-<profile>-polls.csv),
// and BENCH_SCALING_DRAWS=8 runs every trace over 8 draws of its jobs and tells in how many each
// profile met the targets (bench-results/scaling-draws.json; operator/bench/scaling/README.md).

const outputDirectory = new URL('../../bench-results/', import.meta.url);
mkdirSync(outputDirectory, { recursive: true });

const only = process.argv[2];
const profiles = requestedProfiles(process.env[PROFILES_VARIABLE]);
const heartbeat = requestedHeartbeat(process.env);
const pollsOf = requestedPollsProfile(process.env[POLLS_VARIABLE]);
const draws = requestedDraws(process.env[DRAWS_VARIABLE]);
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

if (draws > 1) {
  // The first draw is the run above; the others replay each trace with other random jobs.
  const tallies: DrawsMet[] = results.map((first) => {
    const scenario = scenarios().find((candidate) => candidate.name === first.scenario);
    if (scenario === undefined) throw new Error(`trace ${first.scenario} vanished`);
    const verdicts = [profileVerdicts([first])];
    for (let draw = 2; draw <= draws; draw += 1)
      verdicts.push(profileVerdicts([runScenario(scenarioDraw(scenario, draw), profiles, heartbeat)]));
    return tallyDraws(first.scenario, verdicts);
  });
  console.log(`\n${formatDraws(tallies, profiles)}`);
  writeFileSync(
    new URL('scaling-draws.json', outputDirectory),
    `${JSON.stringify({ generatedAt: new Date().toISOString(), draws, tallies }, null, 2)}\n`,
  );
}
