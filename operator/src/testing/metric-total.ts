/** The sum of a prom-client counter's or gauge's series whose labels include `labels`. */
export async function metricTotal(
  metric: { get(): Promise<{ values: { value: number; labels: Record<string, unknown> }[] }> },
  labels: Record<string, string> = {},
): Promise<number> {
  return (await metric.get()).values
    .filter((value) => Object.entries(labels).every(([key, wanted]) => value.labels[key] === wanted))
    .reduce((total, value) => total + value.value, 0);
}
