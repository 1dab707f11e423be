/** Capped exponential backoff: 1 s, 2 s, 4 s … up to the cap, back to 1 s after a success. */
export class Backoff {
  readonly #initialMs: number;
  readonly #capMs: number;
  #nextMs: number;

  constructor(initialMs = 1_000, capMs = 60_000) {
    this.#initialMs = initialMs;
    this.#capMs = capMs;
    this.#nextMs = initialMs;
  }

  /** The delay to wait now; the one after it doubles. */
  next(): number {
    const delay = this.#nextMs;
    this.#nextMs = Math.min(this.#capMs, this.#nextMs * 2);
    return delay;
  }

  reset(): void {
    this.#nextMs = this.#initialMs;
  }
}
