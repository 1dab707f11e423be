// Liveness for the operator's loops. A loop that has work and makes no progress for longer than
// its limit is stuck (a hung API request, a poll that never settles, a timer chain that broke):
// the liveness probe then fails and the kubelet restarts the process, as it would a deadlock.

interface Watched {
  limitMs: number;
  /** Set while the loop owes progress: since when. */
  owingSinceMs: number | undefined;
}

export class LoopWatchdog {
  readonly #loops = new Map<string, Watched>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** The loop has work to finish within limitMs (a reconcile started, a poll is due). */
  expect(loop: string, limitMs: number): void {
    const watched = this.#loops.get(loop);
    if (watched?.owingSinceMs !== undefined) return;
    this.#loops.set(loop, { limitMs, owingSinceMs: this.#now() });
  }

  /** The loop finished what it owed. */
  done(loop: string): void {
    const watched = this.#loops.get(loop);
    if (watched) watched.owingSinceMs = undefined;
  }

  /** The loop no longer exists (an endpoint without pools, a stopped controller). */
  remove(loop: string): void {
    this.#loops.delete(loop);
  }

  /** Loops overdue, with how long they have owed progress; empty when all is well. */
  stuck(): string[] {
    const now = this.#now();
    const out: string[] = [];
    for (const [loop, watched] of this.#loops) {
      if (watched.owingSinceMs !== undefined && now - watched.owingSinceMs > watched.limitMs) {
        out.push(
          `${loop}: no progress for ${Math.round((now - watched.owingSinceMs) / 1000)}s (limit ${Math.round(watched.limitMs / 1000)}s)`,
        );
      }
    }
    return out;
  }
}
