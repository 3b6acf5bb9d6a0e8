import { describe, expect, it } from 'vitest';
import { mdEscape, renderTable } from './markdown-table.js';

describe('renderTable', () => {
  it('renders a header, an alignment rule per column and one line per row', () => {
    const md = renderTable(
      ['model', { title: 'req/s', align: 'right' }, { title: 'ok', align: 'center' }],
      [
        ['loop', '1,000', 'yes'],
        ['bio', '10'],
      ],
    );
    expect(md.split('\n')).toEqual([
      '| model | req/s | ok |',
      '|---|---:|:---:|',
      '| loop | 1,000 | yes |',
      '| bio | 10 |  |',
    ]);
  });

  it('escapes pipes, backslashes, angle brackets and newlines for a cell', () => {
    expect(mdEscape('a|b\\c<d>\ne')).toBe('a\\|b\\\\c&lt;d> e');
  });
});
