import { describe, expect, it } from 'vitest';
import { renderChartSvg } from './chart-renderer.js';
import { ChartRenderError } from './errors.js';

/** The shape the throughput experiment emits: faceted, log-scaled x, layered line + point, colour per model. */
const throughputLikeSpec = {
  $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
  title: 'Requests/s against connections, per model',
  data: {
    values: [
      { model: 'bio', workload: '/plaintext', connections: 1, requestsPerSec: 900, valid: 'valid' },
      { model: 'bio', workload: '/plaintext', connections: 100, requestsPerSec: 4000, valid: 'valid' },
      { model: 'loop', workload: '/plaintext', connections: 1, requestsPerSec: 1500, valid: 'valid' },
      {
        model: 'loop',
        workload: '/plaintext',
        connections: 100,
        requestsPerSec: 9000,
        valid: 'generator-bound',
      },
      { model: 'loop', workload: 'echo', connections: 1, requestsPerSec: 2000, valid: 'valid' },
    ],
  },
  facet: { field: 'workload', type: 'nominal' },
  columns: 2,
  spec: {
    width: 200,
    height: 120,
    layer: [
      {
        mark: 'line',
        encoding: {
          x: { field: 'connections', type: 'quantitative', scale: { type: 'log' }, title: 'connections' },
          y: { field: 'requestsPerSec', type: 'quantitative', title: 'req/s (median)' },
          color: { field: 'model', type: 'nominal' },
        },
      },
      {
        mark: { type: 'point', filled: true },
        encoding: {
          x: { field: 'connections', type: 'quantitative', scale: { type: 'log' } },
          y: { field: 'requestsPerSec', type: 'quantitative' },
          color: { field: 'model', type: 'nominal' },
          shape: { field: 'valid', type: 'nominal' },
        },
      },
    ],
  },
};

/** Checks that every element opened is closed in order: enough to know a browser will parse the SVG. */
function assertBalancedTags(svg: string): void {
  const stack: string[] = [];
  for (const match of svg.matchAll(/<(\/?)([a-zA-Z][\w:-]*)([^>]*?)(\/?)>/g)) {
    const [, closing, name, , selfClosing] = match;
    if (selfClosing) continue;
    if (closing) expect(stack.pop()).toBe(name);
    else stack.push(name as string);
  }
  expect(stack).toEqual([]);
}

describe('renderChartSvg', () => {
  it('renders a faceted, log-scaled vega-lite spec to a well-formed SVG with its axes and marks', async () => {
    const svg = await renderChartSvg('rps', throughputLikeSpec);
    expect(svg.startsWith('<svg')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect(svg).toContain('xmlns="http://www.w3.org/2000/svg"');
    expect(svg).toContain('req/s (median)');
    expect(svg).toContain('Requests/s against connections, per model');
    expect(svg).toContain('/plaintext');
    // One line per model per facet (bio and loop in /plaintext, loop in echo).
    expect(svg.match(/role-mark[^"]*line|mark-line/g)?.length ?? 0).toBeGreaterThanOrEqual(2);
    expect(/width="(\d+)"/.exec(svg)?.[1]).toBeDefined();
    assertBalancedTags(svg);
  });

  it('rejects a spec vega-lite cannot compile with a typed error naming the chart', async () => {
    const error = await renderChartSvg('broken', { mark: 'no-such-mark', data: { values: [] } }).catch(
      (e) => e,
    );
    expect(error).toBeInstanceOf(ChartRenderError);
    expect(error.code).toBe('IOLAB_BENCH_CHART_FAILED');
    expect(error.chartId).toBe('broken');
  });
});
