import { describe, expect, it } from 'vitest';
import { describeVerdict, ratioWithCi, verdictOf } from './ratio-ci.js';
import { studentTQuantile } from './student-t.js';

describe('studentTQuantile', () => {
  it('matches SciPy stats.t.ppf(0.975, df), fractional df included', () => {
    // Reference values from SciPy 1.17.
    const cases: [number, number][] = [
      [1, 12.706204736174694],
      [2, 4.302652729749462],
      [3.5, 2.9400886379827282],
      [4, 2.7764451051977934],
      [10, 2.228138851986274],
      [30, 2.0422724563012378],
      [100, 1.9839715185235518],
    ];
    for (const [df, t] of cases) expect(studentTQuantile(0.975, df)).toBeCloseTo(t, 6);
  });

  it('is symmetric and rejects nonsense', () => {
    expect(studentTQuantile(0.025, 5)).toBeCloseTo(-studentTQuantile(0.975, 5), 9);
    expect(studentTQuantile(0.5, 5)).toBe(0);
    expect(() => studentTQuantile(1, 5)).toThrow(RangeError);
    expect(() => studentTQuantile(0.9, 0)).toThrow(RangeError);
  });
});

describe('ratioWithCi (Welch on log throughput)', () => {
  it('matches a Welch t-test on the logs computed with SciPy', () => {
    const est = ratioWithCi([10500, 9800, 10200, 11000, 9900], [8000, 8600, 7900, 8300, 8100]);
    expect(est?.ratio).toBeCloseTo(1.2561831311022251, 9);
    expect(est?.ci95[0]).toBeCloseTo(1.182337171075902, 6);
    expect(est?.ci95[1]).toBeCloseTo(1.3346413336813614, 6);
    expect(est?.significant).toBe(true);
  });

  it('calls overlapping noisy samples a tie', () => {
    const est = ratioWithCi([1000, 1300, 900], [1100, 950, 1050]);
    expect(est?.ratio).toBeCloseTo(1.0216294981093301, 9);
    expect(est?.ci95[0]).toBeCloseTo(0.6795162819845266, 6);
    expect(est?.ci95[1]).toBeCloseTo(1.5359850221085483, 6);
    expect(est?.significant).toBe(false);
  });

  it('refuses fewer than two windows or a window that served nothing', () => {
    expect(ratioWithCi([1000], [900, 950])).toBeNull();
    expect(ratioWithCi([1000, 0], [900, 950])).toBeNull();
  });
});

describe('verdictOf', () => {
  const ctx = { experiment: 'throughput', workload: '/plaintext', connections: 100 };

  it('names the faster side the winner, ratio ≥ 1, whichever order it was given in', () => {
    const v = verdictOf(
      ctx,
      { name: 'bio', windows: [8000, 8600, 7900, 8300, 8100] },
      {
        name: 'loop',
        windows: [10500, 9800, 10200, 11000, 9900],
      },
    );
    expect(v).toMatchObject({ ...ctx, winner: 'loop', runnerUp: 'bio', significant: true });
    expect(v?.ratio).toBeCloseTo(1.2561831311022251, 9);
    expect(v?.ci95[0]).toBeCloseTo(1.182337171075902, 6);
    expect(describeVerdict(v!)).toBe('loop 1.26× bio (95 % CI 1.18–1.33)');
  });

  it('has no winner in a tie, and says so', () => {
    const v = verdictOf(
      ctx,
      { name: 'a', windows: [1000, 1300, 900] },
      { name: 'b', windows: [1100, 950, 1050] },
    );
    expect(v?.winner).toBeNull();
    expect(describeVerdict(v!)).toBe('tie within noise (1.02×, 95 % CI 0.68–1.54)');
  });
});
