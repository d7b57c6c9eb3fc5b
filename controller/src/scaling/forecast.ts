/**
 * A workload's demand forecast: additive Holt-Winters with two seasonal cycles (a day and a week), a
 * damped trend and a first-order correction of the last error — the double-seasonal method of
 * J. W. Taylor (J. Oper. Res. Soc. 54, 2003), which was built for load with a daily and a weekly cycle.
 *
 * Why this model: web demand repeats by the day and the week and drifts slowly; the method learns online
 * in O(1) per bucket, keeps one week of seasonal state (bounded memory, no stored history needed to
 * forecast), survives gaps, and the error term lets a 10-minute forecast follow a ramp that has started.
 * Its parameters are chosen by backtesting a small grid on the recent buckets it keeps (see `refit`).
 *
 * Pure: time is always an argument; demand is in whatever unit the caller observes (milli-units here).
 */

export interface ForecastSettings {
  /** Width of one bucket; demand is averaged per bucket. */
  bucketSeconds: number;
  /** How far ahead the floor looks. */
  horizonSeconds: number;
  /** Learn a weekly cycle beside the daily one. */
  weekly: boolean;
}

/** Smoothing weights of the model; see `update`. */
export interface ForecastParameters {
  /** Level. */
  alpha: number;
  /** Trend. */
  beta: number;
  /** Trend damping per bucket. */
  phi: number;
  /** Daily cycle. */
  gamma: number;
  /** Weekly cycle. */
  delta: number;
  /** Share of the last one-step error carried into the next bucket (and its powers further on). */
  lambda: number;
}

export const DEFAULT_FORECAST_PARAMETERS: Readonly<ForecastParameters> = Object.freeze({
  alpha: 0.1,
  beta: 0.01,
  phi: 0.9,
  gamma: 0.2,
  delta: 0.1,
  lambda: 0.8,
});

/** What the forecaster can say at a moment. */
export interface ForecastOutlook {
  /** The highest forecast demand over the horizon; absent until the model is initialised. */
  peak?: number;
  /** Mean absolute percentage error of the horizon-ahead forecast over the last day of buckets, %. */
  mape?: number;
  /** How many backtested buckets `mape` is the mean of. */
  backtested: number;
  /** Buckets of demand seen (gaps excluded). */
  observedBuckets: number;
  /** Why there is no usable forecast; absent when `peak` can be used. */
  unavailable?: string;
}

const DAY_S = 86_400;
const WEEK_S = 7 * DAY_S;

/** Smallest demand whose percentage error counts in the MAPE: zero demand has no percentage. */
const MAPE_FLOOR = 1e-9;

/**
 * Holt-Winters state over absolute bucket numbers (epoch ms ÷ bucket width), so the seasonal slots line
 * up with the clock and survive restarts when warmed from history.
 */
export class DemandForecaster {
  readonly settings: ForecastSettings;
  params: ForecastParameters;
  private readonly bucketMs: number;
  private readonly m1: number;
  private readonly m2: number;
  readonly horizon: number;

  // Model state.
  private initialised = false;
  private level = 0;
  private trend = 0;
  private lastError = 0;
  private readonly daily: Float64Array;
  private readonly weeklyCycle: Float64Array;
  /** The first day's buckets, to initialise level and the daily cycle. */
  private readonly firstDay: Float64Array;
  private firstDayCount = 0;

  // The open bucket.
  private bucket: number | undefined;
  private sum = 0;
  private count = 0;
  /** The last bucket that was closed (observed or gap). */
  private closed: number | undefined;
  private observed = 0;

  // Backtest: forecasts made `horizon` buckets ahead, and their percentage errors over a day.
  private readonly pending: Float64Array;
  private readonly pendingFor: Float64Array;
  private readonly errors: Float64Array;
  private errorAt = 0;
  private errorSum = 0;
  private errorCount = 0;

  // Recent buckets (two weeks, or two days without the weekly cycle) for refitting the parameters.
  private readonly recent: Float64Array;
  private sinceRefit = 0;

  /** Refit once a day; off for the replays that refitting itself runs. */
  private readonly autoRefit: boolean;

  constructor(
    settings: ForecastSettings,
    params: ForecastParameters = DEFAULT_FORECAST_PARAMETERS,
    autoRefit = true,
  ) {
    this.settings = settings;
    this.autoRefit = autoRefit;
    this.params = { ...params };
    this.bucketMs = settings.bucketSeconds * 1000;
    this.m1 = Math.round(DAY_S / settings.bucketSeconds);
    this.m2 = settings.weekly ? Math.round(WEEK_S / settings.bucketSeconds) : 1;
    this.horizon = Math.max(1, Math.ceil(settings.horizonSeconds / settings.bucketSeconds));
    this.daily = new Float64Array(this.m1);
    this.weeklyCycle = new Float64Array(this.m2);
    this.firstDay = new Float64Array(this.m1).fill(Number.NaN);
    this.pending = new Float64Array(this.horizon).fill(Number.NaN);
    this.pendingFor = new Float64Array(this.horizon).fill(-1);
    this.errors = new Float64Array(this.m1).fill(Number.NaN);
    this.recent = new Float64Array(settings.weekly ? 2 * this.m2 : 2 * this.m1).fill(Number.NaN);
  }

  /** Records demand measured at `at` (epoch ms); buckets close as time moves past them. */
  observe(value: number, at: number): void {
    if (!Number.isFinite(value) || value < 0 || !Number.isFinite(at)) return;
    const k = Math.floor(at / this.bucketMs);
    if (this.bucket === undefined) this.bucket = k;
    if (k < this.bucket) return; // late sample for a bucket already closed
    if (k > this.bucket) this.closeThrough(k - 1);
    if (this.bucket === undefined || k > this.bucket) this.bucket = k;
    this.sum += value;
    this.count++;
  }

  /** Closes every bucket up to and including `last` (the open one with its mean, the rest as gaps). */
  private closeThrough(last: number): void {
    if (this.bucket === undefined) return;
    let k = this.bucket;
    if (k <= last) {
      this.close(k, this.count > 0 ? this.sum / this.count : Number.NaN);
      this.sum = 0;
      this.count = 0;
      k++;
    }
    // A gap longer than a week leaves nothing more to learn: close at most one cycle of it one by one.
    const span = last - k + 1;
    if (span > this.m2 + this.m1) k = last - (this.m2 + this.m1) + 1;
    for (; k <= last; k++) this.close(k, Number.NaN);
    this.bucket = last + 1;
  }

  /** Adds a whole history (epoch ms, ascending), as from Prometheus at start-up. */
  warm(t: readonly number[], v: readonly number[]): void {
    for (let i = 0; i < t.length; i++) this.observe(v[i] as number, t[i] as number);
    // Let the last whole bucket count now instead of at the next sample.
    const lastT = t[t.length - 1];
    if (lastT !== undefined) this.closeThrough(Math.floor(lastT / this.bucketMs) - 1);
    if (this.autoRefit) this.refit();
  }

  private close(k: number, y: number): void {
    this.closed = k;
    const r = this.recent.length;
    this.recent[k % r] = y;
    if (!Number.isNaN(y)) {
      this.observed++;
      this.backtest(k, y);
    }
    if (!this.initialised) {
      if (!Number.isNaN(y)) {
        const i = k % this.m1;
        if (Number.isNaN(this.firstDay[i] as number)) this.firstDayCount++;
        this.firstDay[i] = y;
      }
      if (this.firstDayCount >= this.m1 * 0.75 && k % this.m1 === this.m1 - 1) this.initialise();
    } else {
      this.update(k, y);
    }
    if (this.initialised) {
      this.remember(k);
      if (this.autoRefit && ++this.sinceRefit >= this.m1) this.refit();
    }
  }

  /** Level = the first day's mean, daily cycle = each bucket's distance from it (gaps read as the mean). */
  private initialise(): void {
    let sum = 0;
    let n = 0;
    for (const y of this.firstDay)
      if (!Number.isNaN(y)) {
        sum += y;
        n++;
      }
    const mean = n > 0 ? sum / n : 0;
    for (let i = 0; i < this.m1; i++) {
      const y = this.firstDay[i] as number;
      this.daily[i] = Number.isNaN(y) ? 0 : y - mean;
    }
    this.level = mean;
    this.trend = 0;
    this.lastError = 0;
    this.weeklyCycle.fill(0);
    this.initialised = true;
  }

  /** Stores this bucket's forecast `horizon` ahead, to be scored when that bucket closes. */
  private remember(k: number): void {
    const target = k + this.horizon;
    const slot = target % this.horizon;
    this.pending[slot] = this.at(k, this.horizon);
    this.pendingFor[slot] = target;
  }

  private backtest(k: number, y: number): void {
    const slot = k % this.horizon;
    if (this.pendingFor[slot] !== k) return;
    const p = this.pending[slot] as number;
    this.pendingFor[slot] = -1;
    if (y < MAPE_FLOOR) return;
    const ape = (Math.abs(y - p) / y) * 100;
    const old = this.errors[this.errorAt] as number;
    if (!Number.isNaN(old)) {
      this.errorSum -= old;
      this.errorCount--;
    }
    this.errors[this.errorAt] = ape;
    this.errorSum += ape;
    this.errorCount++;
    this.errorAt = (this.errorAt + 1) % this.errors.length;
  }

  /** The forecast for bucket `k + h` made after bucket `k` closed. */
  private at(k: number, h: number): number {
    const p = this.params;
    let damp = 0;
    let f = 1;
    for (let j = 1; j <= h; j++) {
      f *= p.phi;
      damp += f;
    }
    const target = k + h;
    const y =
      this.level +
      damp * this.trend +
      (this.daily[target % this.m1] as number) +
      (this.weeklyCycle[target % this.m2] as number) +
      p.lambda ** h * this.lastError;
    return Math.max(0, y);
  }

  /** The forecast over the horizon after the last closed bucket, and how good it has been. */
  outlook(now: number): ForecastOutlook {
    const out: ForecastOutlook = { backtested: this.errorCount, observedBuckets: this.observed };
    if (this.errorCount > 0) out.mape = this.errorSum / this.errorCount;
    if (!this.initialised || this.closed === undefined) {
      const needed = Math.ceil(this.m1 * 0.75);
      out.unavailable = `learning: ${Math.min(this.firstDayCount, needed)} of ${needed} buckets of the first day seen`;
      return out;
    }
    const nowBucket = Math.floor(now / this.bucketMs);
    const behind = nowBucket - this.closed - 1;
    if (behind > this.horizon) {
      out.unavailable = `no demand seen for ${Math.round((behind * this.bucketMs) / 60_000)} min`;
      return out;
    }
    // Cover the horizon from now, whatever part of it the last closed bucket already reaches.
    let peak = 0;
    for (let h = 1; h <= this.horizon + behind + 1; h++) peak = Math.max(peak, this.at(this.closed, h));
    out.peak = peak;
    return out;
  }

  /**
   * Chooses the parameters with the lowest horizon-ahead MAPE on the kept buckets, from a small grid.
   * Runs at warm-up and once a day; about 100 replays of two weeks of buckets.
   */
  refit(): void {
    this.sinceRefit = 0;
    const series = this.recentSeries();
    if (series.values.length < 2 * this.m1) return;
    let best: ForecastParameters = this.params;
    let bestScore = replayMape(this.settings, best, series);
    for (const alpha of [0.05, 0.1, 0.2, 0.4])
      for (const gamma of [0.05, 0.1, 0.2, 0.4])
        for (const delta of this.settings.weekly ? [0.05, 0.2] : [0])
          for (const lambda of [0, 0.5, 0.8, 0.95]) {
            const candidate = { alpha, beta: 0.01, phi: 0.9, gamma, delta, lambda };
            const score = replayMape(this.settings, candidate, series);
            if (score < bestScore) {
              bestScore = score;
              best = candidate;
            }
          }
    this.params = { ...best };
  }

  /** The kept buckets in time order, ending at the last closed one. */
  private recentSeries(): { first: number; values: Float64Array } {
    const r = this.recent.length;
    if (this.closed === undefined) return { first: 0, values: new Float64Array(0) };
    const n = Math.min(r, this.closed + 1);
    const first = this.closed - n + 1;
    const values = new Float64Array(n);
    let seen = 0;
    for (let i = 0; i < n; i++) {
      const y = this.recent[(first + i) % r] as number;
      values[i] = y;
      if (!Number.isNaN(y)) seen++;
    }
    // Drop leading gaps (a fresh forecaster has a zero-filled past).
    let start = 0;
    while (start < n && Number.isNaN(values[start] as number)) start++;
    return seen > 0
      ? { first: first + start, values: values.subarray(start) }
      : { first, values: values.subarray(n) };
  }

  /** One Holt-Winters step for bucket `k` with demand `y` (NaN for a gap: the state rolls forward). */
  private update(k: number, y: number): void {
    const p = this.params;
    const i1 = k % this.m1;
    const i2 = k % this.m2;
    const d = this.daily[i1] as number;
    const w = this.weeklyCycle[i2] as number;
    const base = this.level + p.phi * this.trend;
    if (Number.isNaN(y)) {
      this.level = base;
      this.trend *= p.phi;
      this.lastError *= p.lambda;
      return;
    }
    const level = p.alpha * (y - d - w) + (1 - p.alpha) * base;
    this.trend = p.beta * (level - this.level) + (1 - p.beta) * p.phi * this.trend;
    this.level = level;
    this.daily[i1] = p.gamma * (y - level - w) + (1 - p.gamma) * d;
    if (this.m2 > 1) this.weeklyCycle[i2] = p.delta * (y - level - d) + (1 - p.delta) * w;
    // The smoothed model's own one-step error; forecasts carry lambda^h of it.
    this.lastError = y - base - d - w;
  }
}

/** The MAPE a fresh model with `params` would have had over `series` (scored after its first day). */
function replayMape(
  settings: ForecastSettings,
  params: ForecastParameters,
  series: { first: number; values: Float64Array },
): number {
  const model = new DemandForecaster(settings, params, false);
  const ms = settings.bucketSeconds * 1000;
  const { first, values } = series;
  for (let i = 0; i < values.length; i++) {
    const y = values[i] as number;
    if (!Number.isNaN(y)) model.observe(y, (first + i) * ms);
  }
  model.observe(0, (first + values.length) * ms); // closes the last bucket
  const o = model.outlook((first + values.length) * ms);
  return o.mape === undefined || o.backtested < 12 ? Number.POSITIVE_INFINITY : o.mape;
}
