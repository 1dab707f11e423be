import type { ReplicaPoint } from './simulation.ts';

// A hand-written SVG chart of one trace: arrivals per second on top, replicas of each policy
// below, on one time axis. No charting dependency: a few polylines and labels are enough.

export interface ChartSeries {
  name: string;
  points: ReplicaPoint[];
}

export interface ChartInput {
  title: string;
  durationSeconds: number;
  /** Jobs arriving per second, one value per bucket of bucketSeconds. */
  load: number[];
  loadBucketSeconds: number;
  series: ChartSeries[];
}

const WIDTH = 960;
const LOAD_TOP = 40;
const LOAD_HEIGHT = 140;
const REPLICAS_TOP = 230;
const REPLICAS_HEIGHT = 260;
const LEFT = 60;
const RIGHT = 20;
const PALETTE = ['#1b9e77', '#d95f02', '#7570b3', '#e7298a', '#66a61e', '#e6ab02', '#a6761d', '#666666', '#1f78b4'];

function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

function niceMax(value: number): number {
  if (value <= 0) return 1;
  const magnitude = Math.pow(10, Math.floor(Math.log10(value)));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * magnitude >= value) return step * magnitude;
  return 10 * magnitude;
}

function axis(top: number, height: number, max: number, label: string): string {
  const lines: string[] = [`<text x="10" y="${top - 8}" font-size="12">${escapeXml(label)}</text>`];
  for (const fraction of [0, 0.5, 1]) {
    const y = top + height - fraction * height;
    lines.push(`<line x1="${LEFT}" x2="${WIDTH - RIGHT}" y1="${y}" y2="${y}" stroke="#ddd"/>`);
    lines.push(
      `<text x="${LEFT - 6}" y="${y + 4}" font-size="11" text-anchor="end">${Number((fraction * max).toFixed(1))}</text>`,
    );
  }
  return lines.join('');
}

/** Step-shaped polyline points: a replica count holds until the next change. */
function stepPoints(
  points: ReplicaPoint[],
  x: (seconds: number) => number,
  y: (value: number) => number,
  durationSeconds: number,
): string {
  const coordinates: string[] = [];
  let previous: number | undefined;
  for (const point of points) {
    if (previous !== undefined) coordinates.push(`${x(point.atSeconds).toFixed(1)},${y(previous).toFixed(1)}`);
    coordinates.push(`${x(point.atSeconds).toFixed(1)},${y(point.replicas).toFixed(1)}`);
    previous = point.replicas;
  }
  if (previous !== undefined) coordinates.push(`${x(durationSeconds).toFixed(1)},${y(previous).toFixed(1)}`);
  return coordinates.join(' ');
}

export function renderChart(input: ChartInput): string {
  const plotWidth = WIDTH - LEFT - RIGHT;
  const x = (seconds: number) => LEFT + (Math.min(seconds, input.durationSeconds) / input.durationSeconds) * plotWidth;
  const loadMax = niceMax(Math.max(0, ...input.load));
  const replicaMax = niceMax(
    Math.max(1, ...input.series.flatMap((series) => series.points.map((point) => point.replicas))),
  );
  const loadY = (value: number) => LOAD_TOP + LOAD_HEIGHT - (value / loadMax) * LOAD_HEIGHT;
  const replicaY = (value: number) => REPLICAS_TOP + REPLICAS_HEIGHT - (value / replicaMax) * REPLICAS_HEIGHT;
  const loadPoints = input.load
    .map((value, bucket) => `${x((bucket + 0.5) * input.loadBucketSeconds).toFixed(1)},${loadY(value).toFixed(1)}`)
    .join(' ');
  const legendTop = REPLICAS_TOP + REPLICAS_HEIGHT + 40;
  const height = legendTop + Math.ceil(input.series.length / 3) * 18 + 10;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="sans-serif">`,
    `<rect width="${WIDTH}" height="${height}" fill="white"/>`,
    `<text x="${WIDTH / 2}" y="20" font-size="15" text-anchor="middle">${escapeXml(input.title)}</text>`,
    axis(LOAD_TOP, LOAD_HEIGHT, loadMax, 'jobs arriving per second'),
    `<polyline fill="none" stroke="#333" stroke-width="1" points="${loadPoints}"/>`,
    axis(REPLICAS_TOP, REPLICAS_HEIGHT, replicaMax, 'replicas'),
  ];
  input.series.forEach((series, index) => {
    const color = PALETTE[index % PALETTE.length] as string;
    parts.push(
      `<polyline fill="none" stroke="${color}" stroke-width="1.5" points="${stepPoints(series.points, x, replicaY, input.durationSeconds)}"/>`,
    );
    const legendX = LEFT + (index % 3) * 300;
    const legendY = legendTop + Math.floor(index / 3) * 18;
    parts.push(
      `<rect x="${legendX}" y="${legendY - 9}" width="14" height="4" fill="${color}"/><text x="${legendX + 20}" y="${legendY - 4}" font-size="12">${escapeXml(series.name)}</text>`,
    );
  });
  parts.push(
    `<text x="${WIDTH - RIGHT}" y="${REPLICAS_TOP + REPLICAS_HEIGHT + 18}" font-size="11" text-anchor="end">seconds (0 to ${Math.round(input.durationSeconds)})</text>`,
  );
  parts.push('</svg>');
  return `${parts.join('\n')}\n`;
}

/** Arrivals per second in buckets of bucketSeconds, from sorted arrival times. */
export function loadPerSecond(arrivals: Float64Array, durationSeconds: number, bucketSeconds: number): number[] {
  const buckets = new Array<number>(Math.max(1, Math.ceil(durationSeconds / bucketSeconds))).fill(0);
  for (const at of arrivals) {
    const bucket = Math.min(buckets.length - 1, Math.floor(at / bucketSeconds));
    buckets[bucket] = (buckets[bucket] ?? 0) + 1;
  }
  return buckets.map((count) => count / bucketSeconds);
}
