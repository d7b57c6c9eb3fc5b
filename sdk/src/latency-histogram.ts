/** Bucket upper bounds in ms for request latency; fixed so reports from every app compare. */
export const LATENCY_BOUNDS_MS: readonly number[] = [
  1, 2, 5, 10, 20, 50, 100, 200, 300, 500, 750, 1000, 1500, 2000, 3000, 5000, 10000, 30000,
];

/** A latency histogram over fixed bounds; recording does not allocate. */
export class LatencyHistogram {
  readonly bounds: readonly number[];
  private counts: Float64Array;
  private sum = 0;

  constructor(bounds: readonly number[] = LATENCY_BOUNDS_MS) {
    this.bounds = bounds;
    this.counts = new Float64Array(bounds.length + 1);
  }

  record(ms: number): void {
    const b = this.bounds;
    let i = 0;
    // Linear scan: 18 bounds, and most requests land in the first few buckets.
    while (i < b.length && ms > (b[i] as number)) i++;
    (this.counts as Float64Array)[i]++;
    this.sum += ms;
  }

  /** The counts and sum since the last take, and a fresh start. */
  take(): { counts: number[]; sumMs: number } {
    const out = { counts: Array.from(this.counts), sumMs: this.sum };
    this.counts.fill(0);
    this.sum = 0;
    return out;
  }
}
