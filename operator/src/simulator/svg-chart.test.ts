import { describe, expect, it } from 'vitest';
import { loadPerSecond, renderChart } from './svg-chart.ts';

describe('svg chart', () => {
  it('buckets arrivals into jobs per second', () => {
    expect(loadPerSecond(Float64Array.from([0.5, 1, 9.9, 10, 25]), 30, 10)).toEqual([0.3, 0.1, 0.1]);
  });

  it('draws the load and one step line per policy, with a legend, escaping names', () => {
    const svg = renderChart({
      title: 'spike <60 s>',
      durationSeconds: 100,
      load: [1, 5, 2],
      loadBucketSeconds: 33,
      series: [
        {
          name: 'engine',
          points: [
            { atSeconds: 0, replicas: 1 },
            { atSeconds: 50, replicas: 4 },
          ],
        },
        { name: 'KEDA & HPA', points: [{ atSeconds: 0, replicas: 2 }] },
      ],
    });
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trim().endsWith('</svg>')).toBe(true);
    expect(svg.match(/<polyline/g)).toHaveLength(3);
    expect(svg).toContain('spike &lt;60 s&gt;');
    expect(svg).toContain('KEDA &amp; HPA');
    expect(svg).not.toContain('NaN');
  });
});
