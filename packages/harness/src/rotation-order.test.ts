import { describe, expect, it } from 'vitest';
import { rotation } from './rotation.js';

describe('rotation', () => {
  it('puts each item first once per cycle and keeps the cyclic order', () => {
    expect([0, 1, 2, 3].map((r) => rotation(['A', 'B', 'C'], r).join(''))).toEqual([
      'ABC',
      'BCA',
      'CAB',
      'ABC',
    ]);
  });
  it('gives every item each position equally often over a whole cycle', () => {
    const items = ['A', 'B', 'C', 'D'];
    for (const item of items) {
      const positions = items.map((_, round) => rotation(items, round).indexOf(item)).sort();
      expect(positions).toEqual([0, 1, 2, 3]);
    }
  });
  it('handles no items and negative rounds', () => {
    expect(rotation([], 2)).toEqual([]);
    expect(rotation(['A', 'B'], -1)).toEqual(['B', 'A']);
  });
});
