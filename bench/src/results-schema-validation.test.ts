import { describe, expect, it } from 'vitest';
import { InvalidResultsError } from './errors.js';
import { assertValidResults, resultsProblems } from './results-schema.js';
import { sampleResults } from './test-results-fixture.js';

describe('results schema', () => {
  it('accepts a well-formed results file', () => {
    expect(resultsProblems(sampleResults())).toEqual([]);
    expect(() => assertValidResults(sampleResults())).not.toThrow();
  });

  it('accepts verdicts of exactly the stated shape and rejects any other field', () => {
    const verdict = {
      experiment: 'throughput',
      workload: '/plaintext',
      connections: 100,
      winner: null,
      runnerUp: 'bio',
      ratio: 1.05,
      ci95: [0.91, 1.21] as [number, number],
      significant: false,
    };
    expect(resultsProblems(sampleResults({ verdicts: [verdict] }))).toEqual([]);
    const extra = resultsProblems({ ...sampleResults(), verdicts: [{ ...verdict, note: 'x' }] });
    expect(extra.some((p) => p.startsWith('/verdicts/0'))).toBe(true);
    const short = resultsProblems({ ...sampleResults(), verdicts: [{ ...verdict, ci95: [1] }] });
    expect(short.some((p) => p.startsWith('/verdicts/0/ci95'))).toBe(true);
  });

  it('rejects a file without an environment block, naming the missing field', () => {
    const { environment: _dropped, ...rest } = sampleResults();
    const problems = resultsProblems(rest);
    expect(problems.some((p) => p.includes('environment'))).toBe(true);
  });

  it('rejects a failed section that does not say why', () => {
    const base = sampleResults();
    const bad = {
      ...base,
      sections: [{ ...base.sections[0], status: 'failed' }],
    };
    const problems = resultsProblems(bad);
    expect(problems.some((p) => p.startsWith('/sections/0') && p.includes('error'))).toBe(true);
  });

  it('rejects wrong types, unknown statuses, bad dates and stray fields, all in one report', () => {
    const base = sampleResults();
    const bad = {
      ...base,
      durationSeconds: '240',
      startedAt: 'yesterday',
      surprise: true,
      sections: [{ ...base.sections[0], status: 'maybe', conclusions: 'not a list' }],
    };
    let error: unknown;
    try {
      assertValidResults(bad);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InvalidResultsError);
    const problems = (error as InvalidResultsError).problems.join('\n');
    expect((error as InvalidResultsError).code).toBe('IOLAB_BENCH_INVALID_RESULTS');
    expect(problems).toContain('/durationSeconds');
    expect(problems).toContain('/startedAt');
    expect(problems).toContain('additional properties');
    expect(problems).toContain('/sections/0/status');
    expect(problems).toContain('/sections/0/conclusions');
  });

  it('rejects another schema version', () => {
    expect(resultsProblems({ ...sampleResults(), schemaVersion: 2 }).length).toBeGreaterThan(0);
  });
});
