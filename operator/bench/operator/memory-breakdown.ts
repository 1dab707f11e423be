import { parseSamples } from './prometheus-text.ts';

// Where the operator's memory goes, from its own prom-client process metrics: the V8 heap in use
// and as reserved (by space), memory outside the heap, and the time spent in GC, which a smaller
// heap trades memory for.

const MiB = 2 ** 20;
const round = (value: number) => Math.round(value * 10) / 10;

export interface MemoryBreakdown {
  heapUsedMiB: number;
  heapTotalMiB: number;
  externalMiB: number;
  /** Reserved size of each V8 heap space (new, old, code, large_object, ...). */
  heapSpacesMiB: Record<string, number>;
}

export function memoryBreakdown(metricsText: string): MemoryBreakdown {
  const one = (name: string) => round((parseSamples(metricsText, name)[0]?.value ?? Number.NaN) / MiB);
  const spaces = parseSamples(metricsText, 'workerpool_operator_nodejs_heap_space_size_total_bytes');
  return {
    heapUsedMiB: one('workerpool_operator_nodejs_heap_size_used_bytes'),
    heapTotalMiB: one('workerpool_operator_nodejs_heap_size_total_bytes'),
    externalMiB: one('workerpool_operator_nodejs_external_memory_bytes'),
    heapSpacesMiB: Object.fromEntries(spaces.map((s) => [s.labels['space'] ?? '', round(s.value / MiB)])),
  };
}

/** Seconds spent in GC so far, by kind (minor, major, incremental, weakcb). */
export function gcSeconds(metricsText: string): Record<string, number> {
  return Object.fromEntries(
    parseSamples(metricsText, 'workerpool_operator_nodejs_gc_duration_seconds_sum').map((s) => [
      s.labels['kind'] ?? '',
      s.value,
    ]),
  );
}
