import { fileURLToPath } from 'node:url';
import { liveManagedCount, type ProgressEvent, spawnManaged } from '@iolab/harness';
import { describe, expect, it } from 'vitest';
import type { StickyResults } from './results.js';
import { runStickyPackets } from './run-sticky-packets.js';
import { type Scenario, scenarios } from './scenarios.js';

// The reference server runs from dist/ (a worker thread): `npm run build` before testing.
const CLI = fileURLToPath(new URL('../../cli/bin/iolab.js', import.meta.url));

/** The quick scenarios, shrunk so each suite run stays short. */
const SMALL: Scenario[] = scenarios(true).map((s) => ({
  ...s,
  messages: s.id === 'large' ? 2 : s.id === 'slow-receiver' ? 300 : 400,
  readerPauseMs: s.readerPauseMs ? 5 : 0,
}));

async function serveWorks(): Promise<boolean> {
  try {
    const p = await spawnManaged({
      command: process.execPath,
      args: [CLI, 'serve', 'loop', '--protocol', 'echo-lp', '--host', '127.0.0.1', '--port', '0'],
      readyTimeoutMs: 10_000,
    });
    await p.stop();
    return true;
  } catch {
    return false;
  }
}
const SERVE_READY = await serveWorks();
if (!SERVE_READY)
  console.warn('sticky-packets: `iolab serve` is not available yet; server-model runs skipped');

function options(extra: Partial<Parameters<typeof runStickyPackets>[0]> = {}) {
  const events: ProgressEvent[] = [];
  return {
    events,
    opts: {
      quick: true,
      cliPath: CLI,
      signal: new AbortController().signal,
      progress: (e: ProgressEvent) => events.push(e),
      scenarios: SMALL,
      ...extra,
    },
  };
}

describe('runStickyPackets', () => {
  it('against the reference server: every codec recovers every message, conclusions follow the data', async () => {
    const { opts, events } = options({ targets: ['reference'] });
    const section = await runStickyPackets(opts);
    const results = section.results as StickyResults;
    expect(section.id).toBe('sticky-packets');
    expect(results.runs).toHaveLength(2 * SMALL.length);
    for (const run of results.runs) {
      expect(run.complete).toBe(true);
      expect(run.server).toBeDefined();
      for (const view of [run.client, run.server]) {
        if (!view) continue;
        expect(view.naive.messages).toBe(view.reads);
        const native = run.protocol === 'echo-lp' ? 'length-field' : 'line';
        expect(view.codecs[native]).toEqual({
          decoded: run.sent,
          intact: run.sent,
          corrupt: 0,
          error: undefined,
        });
        expect(view.codecs['fixed-length']?.intact).toBe(run.sent);
        expect(Object.values(view.readSizes).reduce((a, b) => a + b, 0)).toBe(view.reads);
      }
    }
    // A 512 KiB message cannot come in one 64 KiB read.
    const large = results.runs.find((r) => r.scenario === 'large');
    expect(large?.client.reads).toBeGreaterThanOrEqual(2 * 8);
    expect(large?.client.naive.intact).toBe(0);
    const nagleOn = results.runs.find((r) => r.scenario === 'nagle-on' && r.protocol === 'echo-lp');
    const sentence = section.conclusions.find((c) => c.startsWith('With Nagle on'));
    expect(sentence).toContain(`in ${nagleOn?.server?.reads.toLocaleString('en-US')} reads`);
    expect(section.conclusions.some((c) => c.includes('0 checksum failures'))).toBe(true);
    // Nagle on vs off is stated once, as a verdict with its interval, and the sentence reads the same.
    const [nagle] = section.verdicts ?? [];
    expect(nagle).toMatchObject({ experiment: 'sticky packets', workload: 'messages per read' });
    expect(nagle?.ci95[0]).toBeLessThanOrEqual(nagle?.ratio ?? 0);
    const perRead = section.conclusions.find((c) => c.startsWith('Messages per read')) ?? '';
    expect(perRead).toContain(`95 % CI ${nagle?.ci95[0].toFixed(2)}–${nagle?.ci95[1].toFixed(2)}`);
    expect(section.markdown).toContain('| target | protocol | view |');
    expect(section.charts.map((c) => c.id)).toContain('sticky-naive-vs-decoded');
    for (const chart of section.charts) {
      expect((chart.spec.data as { values: unknown[] }).values.length).toBeGreaterThan(0);
    }
    expect(events.at(-1)).toMatchObject({ done: events.at(-1)?.total });
  });

  it('records a target that cannot start as unavailable, with the reason, and carries on', async () => {
    const { opts } = options({
      targets: ['loop', 'reference'],
      protocols: ['echo-lp'],
      cliPath: '/nonexistent/iolab.js',
      scenarios: SMALL.slice(0, 1),
    });
    const section = await runStickyPackets(opts);
    const results = section.results as StickyResults;
    expect(results.unavailable).toHaveLength(1);
    expect(results.unavailable[0]?.target).toBe('loop');
    expect(results.unavailable[0]?.reason).toMatch(/Cannot find module|MODULE_NOT_FOUND/);
    expect(results.runs).toHaveLength(1);
    expect(section.conclusions.some((c) => c.startsWith('Not measured: loop/echo-lp'))).toBe(true);
    expect(liveManagedCount()).toBe(0);
  });

  it.skipIf(!SERVE_READY)(
    'through every server model and the balancer, the codecs recover every message',
    async () => {
      const { opts } = options({ targets: ['bio', 'pool', 'loop', 'balancer'] });
      const section = await runStickyPackets(opts);
      const results = section.results as StickyResults;
      expect(results.runs.length + results.unavailable.length * SMALL.length).toBe(4 * 2 * SMALL.length);
      for (const run of results.runs) {
        expect(run.complete, `${run.target}/${run.protocol}/${run.scenario}: ${run.error}`).toBe(true);
        const native = run.protocol === 'echo-lp' ? 'length-field' : 'line';
        expect(run.client.codecs[native]?.intact).toBe(run.sent);
      }
      expect(section.commands.some((c) => c.includes('serve loop'))).toBe(true);
      expect(liveManagedCount()).toBe(0);
    },
    60_000,
  );

  it('stops on abort and leaves no server running', async () => {
    const controller = new AbortController();
    const { opts } = options({
      signal: controller.signal,
      targets: SERVE_READY ? ['loop', 'reference'] : ['reference'],
    });
    let count = 0;
    const run = runStickyPackets({
      ...opts,
      progress: () => {
        if (++count === 3) controller.abort();
      },
    });
    await expect(run).rejects.toMatchObject({ code: 'IOLAB_LOADGEN_ABORTED' });
    expect(liveManagedCount()).toBe(0);
  });
});
