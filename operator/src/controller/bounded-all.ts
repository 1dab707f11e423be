/**
 * Runs `task` for every item with at most `limit` running at once, and settles when all have
 * (the first failure is thrown after every started task has finished). The API server's
 * priority-and-fairness limits serve every team: one pool's hundred pods must not take them all.
 */
export async function boundedAll<T>(
  items: readonly T[],
  limit: number,
  task: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  const errors: unknown[] = [];
  const worker = async () => {
    while (next < items.length) {
      const item = items[next++] as T;
      try {
        await task(item);
      } catch (error) {
        errors.push(error);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (errors.length > 0) throw errors[0];
}
