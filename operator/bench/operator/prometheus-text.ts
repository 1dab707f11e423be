// Reads Prometheus text exposition: enough for the counters the benchmark compares.

export interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

export function parseSamples(text: string, name: string): Sample[] {
  const out: Sample[] = [];
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const match = LINE.exec(line);
    if (!match || match[1] !== name) continue;
    const labels: Record<string, string> = {};
    for (const label of (match[2] ?? '').matchAll(LABEL)) labels[label[1] ?? ''] = label[2] ?? '';
    out.push({ name, labels, value: Number(match[3]) });
  }
  return out;
}

/** Sums of `after - before` grouped by a key made of some labels. */
export function deltaBy(
  before: readonly Sample[],
  after: readonly Sample[],
  key: (labels: Record<string, string>) => string,
): Map<string, number> {
  const out = new Map<string, number>();
  const add = (samples: readonly Sample[], sign: number) => {
    for (const sample of samples) {
      const k = key(sample.labels);
      out.set(k, (out.get(k) ?? 0) + sign * sample.value);
    }
  };
  add(after, 1);
  add(before, -1);
  for (const [k, v] of out) if (Math.abs(v) < 1e-9) out.delete(k);
  return out;
}
