/**
 * Reconnect delays for the Ballast links: exponential with "full jitter" (a uniform draw between zero
 * and the capped exponential step), so that a fleet of agents that lost the controller at the same
 * moment does not reconnect in lockstep.
 */
export interface BackoffOptions {
  /** First step's upper bound in ms. */
  initialMs: number;
  /** Largest upper bound in ms. */
  maxMs: number;
  /** Growth per attempt. */
  factor: number;
  /** Source of uniform numbers in [0, 1); injected so tests are deterministic. */
  random?: () => number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { initialMs: 100, maxMs: 10_000, factor: 2 };

export class Backoff {
  private attempt = 0;

  constructor(private readonly options: BackoffOptions = DEFAULT_BACKOFF) {
    if (!(options.initialMs > 0) || !(options.maxMs >= options.initialMs) || !(options.factor >= 1)) {
      throw new RangeError("backoff needs initialMs > 0, maxMs >= initialMs and factor >= 1");
    }
  }

  /** The upper bound of the next delay, before jitter. */
  ceilingMs(): number {
    const { initialMs, maxMs, factor } = this.options;
    return Math.min(maxMs, initialMs * factor ** this.attempt);
  }

  /** The delay to wait before the next attempt; each call counts one attempt. */
  nextDelayMs(): number {
    const ceiling = this.ceilingMs();
    this.attempt++;
    return Math.floor((this.options.random ?? Math.random)() * ceiling);
  }

  /** Call after a successful connection. */
  reset(): void {
    this.attempt = 0;
  }
}
