/**
 * Markdown tables for report sections: one escaping rule and one alignment rule (numbers right-aligned) for
 * every experiment.
 */

/** Escapes text for a Markdown table cell or inline use. */
export function mdEscape(text: string): string {
  return text.replaceAll('\\', '\\\\').replaceAll('|', '\\|').replaceAll('<', '&lt;').replaceAll('\n', ' ');
}

export type Align = 'left' | 'right' | 'center';

export interface Column {
  readonly title: string;
  /** Default 'left'; use 'right' for numbers so digits line up. */
  readonly align?: Align;
}

const RULE: Record<Align, string> = { left: '---', right: '---:', center: ':---:' };

/**
 * Renders a GitHub-flavoured Markdown table. Cells are used as given (they may carry Markdown such as
 * `**bold**`); pass them through {@link mdEscape} where they hold arbitrary text.
 */
export function renderTable(
  columns: readonly (Column | string)[],
  rows: readonly (readonly string[])[],
): string {
  const cols = columns.map((c) => (typeof c === 'string' ? { title: c } : c));
  const line = (cells: readonly string[]): string => `| ${cells.join(' | ')} |`;
  return [
    line(cols.map((c) => c.title)),
    `|${cols.map((c) => RULE[c.align ?? 'left']).join('|')}|`,
    ...rows.map((row) => line(cols.map((_, i) => row[i] ?? ''))),
  ].join('\n');
}
