/**
 * The statistics every experiment uses to turn repetitions into a figure. One definition each, so that two
 * sections of the report can never disagree on what "median" means.
 */

/** The middle value (mean of the two middle values for an even count); null for no values. */
export function median(values: readonly number[]): number | null {
  return quantile(values, 0.5);
}

/**
 * The q-quantile (0 ≤ q ≤ 1) with linear interpolation between order statistics (Hyndman–Fan type 7, the
 * default of R and NumPy); null for no values.
 */
export function quantile(values: readonly number[], q: number): number | null {
  if (values.length === 0) return null;
  if (!(q >= 0 && q <= 1)) throw new RangeError(`quantile: q must be in [0, 1], got ${q}`);
  const sorted = [...values].sort((a, b) => a - b);
  const position = (sorted.length - 1) * q;
  const lower = Math.floor(position);
  const upper = Math.ceil(position);
  const low = sorted[lower] as number;
  const high = sorted[upper] as number;
  return low + (high - low) * (position - lower);
}

/** A figure over repetitions: the median with the range around it. */
export interface Spread {
  readonly median: number | null;
  readonly min: number | null;
  readonly max: number | null;
  /** (max − min) / median × 100. */
  readonly spreadPercent: number | null;
}

/** Median and range of the finite values; missing (null) and non-finite values are left out. */
export function spreadOf(values: readonly (number | null)[]): Spread {
  const xs = values.filter((v): v is number => v !== null && Number.isFinite(v));
  const m = median(xs);
  if (m === null) return { median: null, min: null, max: null, spreadPercent: null };
  const min = Math.min(...xs);
  const max = Math.max(...xs);
  return { median: m, min, max, spreadPercent: m === 0 ? null : ((max - min) / m) * 100 };
}
