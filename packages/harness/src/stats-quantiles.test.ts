import { describe, expect, it } from 'vitest';
import { median, quantile, spreadOf } from './stats.js';

describe('median and quantiles', () => {
  it('takes the middle value, or the mean of the middle two, whatever the input order', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
    expect(median([])).toBeNull();
  });

  it('interpolates between order statistics (type 7) and hits the extremes at 0 and 1', () => {
    const xs = [10, 40, 20, 30];
    expect(quantile(xs, 0)).toBe(10);
    expect(quantile(xs, 1)).toBe(40);
    expect(quantile(xs, 0.25)).toBeCloseTo(17.5, 10);
    expect(quantile(xs, 0.9)).toBeCloseTo(37, 10);
    expect(quantile([], 0.5)).toBeNull();
  });

  it('rejects a q outside [0, 1]', () => {
    expect(() => quantile([1, 2], 1.5)).toThrow(RangeError);
    expect(() => quantile([1, 2], Number.NaN)).toThrow(RangeError);
  });

  it('does not reorder the caller’s array', () => {
    const xs = [3, 1, 2];
    median(xs);
    expect(xs).toEqual([3, 1, 2]);
  });
});

describe('spreadOf', () => {
  it('reports the range relative to the median and ignores missing values', () => {
    expect(spreadOf([90, 100, 110, null])).toEqual({ median: 100, min: 90, max: 110, spreadPercent: 20 });
    expect(spreadOf([null, Number.NaN]).median).toBeNull();
  });

  it('has no relative spread around a zero median', () => {
    expect(spreadOf([0, 0, 0]).spreadPercent).toBeNull();
  });
});
