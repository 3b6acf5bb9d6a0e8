/**
 * How sure a comparison is. The 95 % confidence interval of a throughput ratio A ÷ B, from the per-window
 * figures of A and B, by **Welch's t on log throughput**: throughput is a rate, its noise is multiplicative,
 * so the logs are closer to normal and a difference of mean logs is the log of a ratio (of geometric means).
 * Welch rather than a bootstrap: with the 3–5 windows a cell has, a bootstrap resamples from at most five
 * values and its interval comes out too narrow and jumps from run to run; Welch's t widens honestly with few
 * windows and unequal spreads, and the same figures always give the same verdict.
 */
import { studentTQuantile } from './student-t.js';

export interface RatioEstimate {
  /** Geometric mean of A ÷ geometric mean of B. */
  readonly ratio: number;
  readonly ci95: readonly [number, number];
  /** The interval excludes 1. */
  readonly significant: boolean;
  readonly method: 'welch-log';
}

function meanAndVariance(xs: readonly number[]): { mean: number; variance: number } {
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  const variance = xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (xs.length - 1);
  return { mean, variance };
}

/**
 * The ratio A ÷ B with its confidence interval (default 95 %); null when either side has fewer than two
 * windows or a window with no throughput (a zero has no logarithm: such a cell failed, it is not slow).
 */
export function ratioWithCi(
  a: readonly number[],
  b: readonly number[],
  confidence = 0.95,
): RatioEstimate | null {
  if (a.length < 2 || b.length < 2) return null;
  if (![...a, ...b].every((x) => x > 0 && Number.isFinite(x))) return null;
  const la = meanAndVariance(a.map(Math.log));
  const lb = meanAndVariance(b.map(Math.log));
  const diff = la.mean - lb.mean;
  const va = la.variance / a.length;
  const vb = lb.variance / b.length;
  const se = Math.sqrt(va + vb);
  const ratio = Math.exp(diff);
  if (se === 0) return { ratio, ci95: [ratio, ratio], significant: ratio !== 1, method: 'welch-log' };
  // Welch–Satterthwaite degrees of freedom.
  const df = (va + vb) ** 2 / (va ** 2 / (a.length - 1) + vb ** 2 / (b.length - 1));
  const t = studentTQuantile(1 - (1 - confidence) / 2, df);
  const lo = Math.exp(diff - t * se);
  const hi = Math.exp(diff + t * se);
  return { ratio, ci95: [lo, hi], significant: lo > 1 || hi < 1, method: 'welch-log' };
}

/** One stated comparison, as results.json's `verdicts` array carries it. */
export interface Verdict {
  readonly experiment: string;
  readonly workload: string;
  readonly connections: number;
  /** null when the interval includes 1 (a tie within noise). */
  readonly winner: string | null;
  readonly runnerUp: string;
  /** Winner ÷ runner-up (≥ 1), or, in a tie, the better median ÷ the other. */
  readonly ratio: number;
  readonly ci95: readonly [number, number];
  readonly significant: boolean;
}

/**
 * Compares two named samples and words the outcome the one way the report states it: the faster side over
 * the slower, with the interval of that ratio; `winner` only when the interval excludes 1.
 */
export function verdictOf(
  context: { readonly experiment: string; readonly workload: string; readonly connections: number },
  a: { readonly name: string; readonly windows: readonly number[] },
  b: { readonly name: string; readonly windows: readonly number[] },
): Verdict | null {
  const est = ratioWithCi(a.windows, b.windows);
  if (!est) return null;
  const aFirst = est.ratio >= 1;
  const [first, second] = aFirst ? [a, b] : [b, a];
  const ratio = aFirst ? est.ratio : 1 / est.ratio;
  const ci95: [number, number] = aFirst ? [est.ci95[0], est.ci95[1]] : [1 / est.ci95[1], 1 / est.ci95[0]];
  return {
    ...context,
    winner: est.significant ? first.name : null,
    runnerUp: second.name,
    ratio,
    ci95,
    significant: est.significant,
  };
}

/** "1.26× (95 % CI 1.18–1.33)" or "tie within noise (1.02×, 95 % CI 0.68–1.54)". */
export function describeVerdict(v: Verdict): string {
  const ci = `95 % CI ${v.ci95[0].toFixed(2)}–${v.ci95[1].toFixed(2)}`;
  return v.winner === null
    ? `tie within noise (${v.ratio.toFixed(2)}×, ${ci})`
    : `${v.winner} ${v.ratio.toFixed(2)}× ${v.runnerUp} (${ci})`;
}
