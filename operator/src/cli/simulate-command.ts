import { readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import type { Argv, CommandModule } from 'yargs';
import { parseTraceCsv, TraceFormatError } from '../simulator/arrival-trace.ts';
import { parsePoolYaml, PoolFileError } from '../simulator/pool-file.ts';
import { describeServiceTime, type ServiceTimeSpec } from '../simulator/service-time.ts';
import { formatComparisonTable } from '../simulator/comparison-table.ts';
import type { Comparison } from '../simulator/policy-comparison.ts';
import { comparePool, simulatePool, type PoolSimulation } from '../simulator/simulate-pool.ts';

// `workerpool-operator simulate`: what would the engine have done with this pool on this
// trace? Replays a recorded arrival trace through the very engine the operator runs, on
// virtual time, and reports cost (replica-seconds) and service level (waits vs the target).
// With --compare, the same jobs also go through the engine with scaling.predictive flipped (on,
// or off for a pool that has it on), KEDA, WPA, a Judoscale-style policy and the offline oracle, and the answer is the benchmark's table.

export const DEFAULT_COMPARE_CHART = 'simulate-compare.svg';

export const SERVICE_DISTRIBUTIONS = ['fixed', 'exponential', 'lognormal'] as const;

const options = (yargs: Argv) =>
  yargs
    .option('pool', {
      type: 'string',
      demandOption: true,
      describe: 'WorkerPool manifest (YAML); its spec.scaling is simulated',
    })
    .option('trace', {
      type: 'string',
      demandOption: true,
      describe: 'Arrival trace, CSV lines of "timestamp,count" (seconds or ISO dates)',
    })
    .option('compare', {
      type: 'boolean',
      default: false,
      describe:
        'Also run the engine with scaling.predictive enabled (disabled if the pool has it enabled: the learned pattern needs a trace of more than a day, such as `record` writes), KEDA (defaults and the AWS backlog rule), practo WPA, a Judoscale-style policy and the offline oracle on the same jobs, and print the comparison table',
    })
    .option('chart', {
      type: 'string',
      describe: `Write an SVG chart of load and replicas to this file (with --compare, default ${DEFAULT_COMPARE_CHART})`,
    })
    .option('json', { type: 'boolean', default: false, describe: 'Print the result as JSON' })
    .option('service-mean', { type: 'number', default: 1, describe: 'Mean seconds one job runs' })
    .option('service-distribution', {
      choices: SERVICE_DISTRIBUTIONS,
      default: 'exponential' as const,
      describe: 'Distribution of job run times',
    })
    .option('service-sigma', {
      type: 'number',
      default: 1,
      describe: 'Sigma of the log-normal distribution (its heavy tail)',
    })
    .option('seed', {
      type: 'number',
      default: 1,
      describe: 'Seed of the random draws: the same seed gives the same run',
    })
    .option('initial-replicas', { type: 'number', describe: 'Replicas ready at the start (default: minReplicas)' });

type SimulateArgs = ReturnType<typeof options> extends Argv<infer T> ? T : never;

export function serviceSpec(
  distribution: (typeof SERVICE_DISTRIBUTIONS)[number],
  meanSeconds: number,
  sigma: number,
): ServiceTimeSpec {
  if (!(meanSeconds > 0)) throw new PoolFileError('--service-mean: must be more than 0');
  if (distribution === 'fixed') return { kind: 'fixed', seconds: meanSeconds };
  if (distribution === 'exponential') return { kind: 'exponential', meanSeconds };
  if (!(sigma > 0)) throw new PoolFileError('--service-sigma: must be more than 0');
  return { kind: 'lognormal', meanSeconds, sigma };
}

export function formatSummary(run: PoolSimulation, targetSeconds: number, service: ServiceTimeSpec): string {
  const summary = run.summary;
  const lines = [
    `jobs                 ${summary.jobs} (service time ${describeServiceTime(service)})`,
    `replica-seconds      ${summary.replicaSeconds.toFixed(0)} (work bound ${run.workBoundReplicaSeconds.toFixed(0)}, ${(summary.replicaSeconds / Math.max(1, run.workBoundReplicaSeconds)).toFixed(2)}x)`,
    `over target ${targetSeconds}s     ${summary.overTargetPercent.toFixed(2)} % of jobs`,
    `wait p50 / p99 / max ${summary.p50WaitSeconds.toFixed(1)}s / ${summary.p99WaitSeconds.toFixed(1)}s / ${summary.maxWaitSeconds.toFixed(1)}s`,
    `scale events         ${summary.scaleEvents}, peak ${run.peakReplicas} replicas`,
  ];
  const recent = run.result.scaleChanges.slice(-5);
  if (recent.length > 0)
    lines.push(
      'last scale events:',
      ...recent.map(
        (change) => `  ${change.atSeconds.toFixed(0)}s  ${change.reason ?? `${change.from} -> ${change.to}`}`,
      ),
    );
  return lines.join('\n');
}

export function formatComparison(comparison: Comparison, targetSeconds: number, service: ServiceTimeSpec): string {
  return [
    `jobs ${comparison.jobs.arrivals.length} (service time ${describeServiceTime(service)}), target ${targetSeconds}s`,
    ...formatComparisonTable(comparison),
  ].join('\n');
}

function comparisonJson(comparison: Comparison): object {
  return {
    policies: comparison.policies,
    oracle: comparison.oracle,
    workBoundReplicaSeconds: comparison.workBoundReplicaSeconds,
  };
}

function isFileSystemError(error: unknown): error is NodeJS.ErrnoException {
  return error instanceof Error && typeof (error as NodeJS.ErrnoException).code === 'string';
}

export const simulateCommand: CommandModule<object, SimulateArgs> = {
  command: 'simulate',
  describe: 'Replay an arrival trace through the scaling engine for a WorkerPool and report replica-seconds and waits',
  builder: options,
  handler: (args) => {
    try {
      const spec = parsePoolYaml(readFileSync(args.pool, 'utf8'));
      const trace = parseTraceCsv(basename(args.trace), readFileSync(args.trace, 'utf8'));
      const service = serviceSpec(args['service-distribution'], args['service-mean'], args['service-sigma']);
      const input = { spec, trace, service, seed: args.seed, initialReplicas: args['initial-replicas'] };
      const target = spec.scaling.targetLatencySeconds;
      if (args.compare) {
        const comparison = comparePool(input);
        const chart = args.chart ?? DEFAULT_COMPARE_CHART;
        writeFileSync(chart, comparison.chartSvg);
        if (args.json) console.log(JSON.stringify(comparisonJson(comparison), null, 2));
        else console.log(`${formatComparison(comparison, target, service)}\nchart: ${chart}`);
        return;
      }
      const run = simulatePool(input);
      if (args.chart !== undefined) writeFileSync(args.chart, run.chartSvg);
      if (args.json)
        console.log(
          JSON.stringify(
            {
              summary: run.summary,
              workBoundReplicaSeconds: run.workBoundReplicaSeconds,
              peakReplicas: run.peakReplicas,
              scaleChanges: run.result.scaleChanges,
            },
            null,
            2,
          ),
        );
      else console.log(formatSummary(run, target, service));
    } catch (error) {
      // A bad file is the user's to fix: say which and why, without a stack trace.
      if (error instanceof PoolFileError || error instanceof TraceFormatError || isFileSystemError(error)) {
        console.error(`workerpool-operator simulate: ${error.message}`);
        process.exitCode = 2;
        return;
      }
      throw error;
    }
  },
};
