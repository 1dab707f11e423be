/**
 * Runs one step of a close sequence: bounded in time, and a failure is reported rather than thrown,
 * so the steps after it still run (a dead Redis must not keep the pod from exiting before SIGKILL).
 */
export async function runCloseStep(
  name: string,
  run: () => Promise<void>,
  limitMs: number,
  onError: (message: string, err: unknown) => void,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      run(),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${limitMs} ms`)), limitMs);
      }),
    ]);
  } catch (err) {
    onError(`close: ${name} failed`, err);
  } finally {
    clearTimeout(timer);
  }
}
