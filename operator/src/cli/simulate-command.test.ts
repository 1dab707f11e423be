import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import yargs from 'yargs';
import { serviceSpec, simulateCommand } from './simulate-command.ts';

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
    const text = await run([
      'simulate',
      '--pool',
      join(directory, 'pool.yaml'),
      '--trace',
      join(directory, 'trace.csv'),
      '--chart',
      join(directory, 'out.svg'),
      '--service-distribution',
      'fixed',
    ]);
    expect(text).toMatch(/^jobs +280 \(service time fixed 1s\)/);
    expect(text).toContain('over target 20s');
    expect(readFileSync(join(directory, 'out.svg'), 'utf8')).toContain('<svg');
    const json = JSON.parse(
      await run([
        'simulate',
        '--pool',
        join(directory, 'pool.yaml'),
        '--trace',
        join(directory, 'trace.csv'),
        '--json',
      ]),
    ) as { summary: { jobs: number } };
    expect(json.summary.jobs).toBe(280);
  });

  it('names the bad field and exits 2 on an invalid pool', async () => {
    writeFileSync(join(directory, 'bad.yaml'), POOL.replace('maxReplicas: 40', 'maxReplicas: -1'));
    writeFileSync(join(directory, 'trace.csv'), '0,1\n');
    const text = await run([
      'simulate',
      '--pool',
      join(directory, 'bad.yaml'),
      '--trace',
      join(directory, 'trace.csv'),
    ]);
    expect(text).toMatch(/^workerpool-operator simulate: spec\.scaling\.maxReplicas: /);
    expect(process.exitCode).toBe(2);
  });

  it('reports a missing file without a stack trace', async () => {
    const text = await run([
      'simulate',
      '--pool',
      join(directory, 'missing.yaml'),
      '--trace',
      join(directory, 'trace.csv'),
    ]);
    expect(text).toContain('ENOENT');
    expect(process.exitCode).toBe(2);
  });
});
