import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import yargs from 'yargs';
import { serviceSpec, simulateCommand } from './simulate-command.ts';

const MAIN = join(import.meta.dirname, 'main.ts');
const COMPARED_ROWS = [
  "workerpool engine (this pool's settings)",
  'workerpool engine (predictive enabled)',
  'KEDA redis list (listLength 5)',
  'KEDA + AWS backlog rule (listLength 100)',
  'practo WPA (100 msgs/worker)',
  'Judoscale-style step',
  'offline oracle',
  'work bound (service time / concurrency)',
];

const POOL = `
kind: WorkerPool
spec:
  template: {spec: {containers: [{name: w}]}}
  queue: {format: native, names: [q], redis: {url: "redis://r:6379"}}
  scaling: {concurrency: 5, targetLatencySeconds: 20, podStartupSeconds: 5, maxReplicas: 40}
`;

describe('serviceSpec', () => {
  it('builds the service-time model from the flags', () => {
    expect(serviceSpec('fixed', 2, 1)).toEqual({ kind: 'fixed', seconds: 2 });
    expect(serviceSpec('lognormal', 2, 1.5)).toEqual({ kind: 'lognormal', meanSeconds: 2, sigma: 1.5 });
    expect(() => serviceSpec('exponential', 0, 1)).toThrow('--service-mean: must be more than 0');
  });
});

describe('simulate command', () => {
  const directory = mkdtempSync(join(tmpdir(), 'simulate-command-'));
  afterEach(() => {
    vi.restoreAllMocks();
    process.exitCode = undefined;
  });
  afterAll(() => rmSync(directory, { recursive: true, force: true }));

  const simulateArgs = (poolFile: string, ...extra: string[]) => [
    'simulate',
    '--pool',
    join(directory, poolFile),
    '--trace',
    join(directory, 'trace.csv'),
    ...extra,
  ];
  const run = async (args: string[]) => {
    const printed: string[] = [];
    vi.spyOn(console, 'log').mockImplementation((text: string) => printed.push(text));
    vi.spyOn(console, 'error').mockImplementation((text: string) => printed.push(text));
    await yargs(args).command(simulateCommand).strict().parseAsync();
    return printed.join('\n');
  };

  it('prints a summary, writes the chart and can answer in JSON', async () => {
    writeFileSync(join(directory, 'pool.yaml'), POOL);
    writeFileSync(join(directory, 'trace.csv'), 'timestamp,count\n0,20\n10,20\n20,200\n30,20\n40,20\n50,0\n');
    const text = await run(
      simulateArgs('pool.yaml', '--chart', join(directory, 'out.svg'), '--service-distribution', 'fixed'),
    );
    expect(text).toMatch(/^jobs +280 \(service time fixed 1s\)/);
    expect(text).toContain('over target 20s');
    expect(readFileSync(join(directory, 'out.svg'), 'utf8')).toContain('<svg');
    const json = JSON.parse(await run(simulateArgs('pool.yaml', '--json'))) as { summary: { jobs: number } };
    expect(json.summary.jobs).toBe(280);
  });

  it('names the bad field and exits 2 on an invalid pool', async () => {
    writeFileSync(join(directory, 'bad.yaml'), POOL.replace('maxReplicas: 40', 'maxReplicas: -1'));
    writeFileSync(join(directory, 'trace.csv'), '0,1\n');
    const text = await run(simulateArgs('bad.yaml'));
    expect(text).toMatch(/^workerpool-operator simulate: spec\.scaling\.maxReplicas: /);
    expect(process.exitCode).toBe(2);
  });

  it('reports a missing file without a stack trace', async () => {
    const text = await run(simulateArgs('missing.yaml'));
    expect(text).toContain('ENOENT');
    expect(process.exitCode).toBe(2);
  });

  it('compares the pool with every baseline and the oracle on the same jobs, and charts them', async () => {
    writeFileSync(join(directory, 'pool.yaml'), POOL);
    writeFileSync(join(directory, 'trace.csv'), 'timestamp,count\n0,20\n10,20\n20,200\n30,20\n40,20\n50,0\n');
    const chart = join(directory, 'compare.svg');
    const text = await run(simulateArgs('pool.yaml', '--compare', '--chart', chart, '--service-distribution', 'fixed'));
    const lines = text.split('\n');
    expect(lines[0]).toBe('jobs 280 (service time fixed 1s), target 20s');
    expect(lines[1]).toMatch(/^policy +replica-s +x oracle +% > target +p99 wait s +scale events +interrupted/);
    expect(lines.slice(2, 2 + COMPARED_ROWS.length).map((line) => line.slice(0, 52).trim())).toEqual(COMPARED_ROWS);
    expect(text).toMatch(/\noffline oracle +\d+ +1\.00 +0\.00 /);
    expect(lines[lines.length - 1]).toBe(`chart: ${chart}`);
    const svg = readFileSync(chart, 'utf8');
    for (const name of COMPARED_ROWS.slice(0, 7))
      expect(svg).toContain(name.replace("'", '&#39;').replace('&#39;', "'"));
    const json = JSON.parse(await run(simulateArgs('pool.yaml', '--compare', '--chart', chart, '--json'))) as {
      policies: { policy: string; jobs: number }[];
      oracle: { jobs: number };
    };
    expect(json.policies.map((summary) => summary.policy)).toEqual(COMPARED_ROWS.slice(0, 6));
    expect(json.oracle.jobs).toBe(280);
  });

  it('validates the pool as the CRD does before comparing: the error names the field', async () => {
    writeFileSync(join(directory, 'bad.yaml'), POOL.replace('targetLatencySeconds: 20', 'targetLatencySeconds: 0'));
    writeFileSync(join(directory, 'trace.csv'), '0,1\n');
    const text = await run(simulateArgs('bad.yaml', '--compare'));
    expect(text).toMatch(/^workerpool-operator simulate: spec\.scaling\.targetLatencySeconds: /);
    expect(process.exitCode).toBe(2);
  });
});

describe('workerpool-operator simulate --compare, the real process', () => {
  it('prints the table for the sample pool and writes the chart', () => {
    const directory = mkdtempSync(join(tmpdir(), 'simulate-process-'));
    try {
      const trace = join(directory, 'trace.csv');
      // Ten minutes of the recorded hour's shape: a base load and one batch import.
      const rows = Array.from(
        { length: 60 },
        (_, bucket) => `${bucket * 10},${bucket >= 20 && bucket < 23 ? 900 : 70}`,
      );
      writeFileSync(trace, `timestamp,count\n${rows.join('\n')}\n`);
      const chart = join(directory, 'compare.svg');
      const pool = join(import.meta.dirname, '../../bench/traces/sample-pool.yaml');
      const result = spawnSync(
        process.execPath,
        [MAIN, 'simulate', '--pool', pool, '--trace', trace, '--compare', '--service-mean', '1.5', '--chart', chart],
        { encoding: 'utf8', timeout: 60_000 },
      );
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
      const lines = result.stdout.trimEnd().split('\n');
      expect(lines[0]).toBe('jobs 6690 (service time exponential, mean 1.5s), target 30s');
      expect(lines.slice(2, 2 + COMPARED_ROWS.length).map((line) => line.slice(0, 52).trim())).toEqual([
        ...COMPARED_ROWS.slice(0, 2),
        'KEDA redis list (listLength 5)',
        'KEDA + AWS backlog rule (listLength 200)',
        'practo WPA (200 msgs/worker)',
        ...COMPARED_ROWS.slice(5),
      ]);
      expect(readFileSync(chart, 'utf8')).toMatch(/^<svg /);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});
