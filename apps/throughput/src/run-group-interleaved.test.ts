/**
 * One real group: two real `iolab serve` processes up together, the real load worker (wrk where installed,
 * autocannon otherwise; the framed generator for echo-lp), start-up probed first, then windows in rotating
 * order. Needs the built CLI and dist/load-worker.js (`npm run build`).
 */
import { fileURLToPath } from 'node:url';
import { planCores } from '@iolab/harness';
import { wrkAvailable } from '@iolab/loadgen';
import { afterAll, describe, expect, it } from 'vitest';
import { LoadWorker } from './load-client.js';
import type { HttpGenerator } from './load-job.js';
import { type PlannedGroup, type Timing, WORKLOADS } from './matrix.js';
import { type ModelSpec, modelSpecs } from './models.js';
import { type GroupContext, runGroup, startupOf } from './run-group.js';

const CLI = fileURLToPath(new URL('../../cli/bin/iolab.js', import.meta.url));
const TIMING: Timing = {
  warmupSec: 0.2,
  warmupCapSec: 3,
  durationSec: 0.4,
  repetitions: 3,
  startupCapSec: 10,
};
const controller = new AbortController();
const pinning = planCores();
const worker = new LoadWorker(pinning.loadgenCpu, controller.signal);
afterAll(() => worker.stop());

function model(id: string): ModelSpec {
  return modelSpecs().find((m) => m.id === id) as ModelSpec;
}

function group(ids: readonly string[], workloadId: 'plaintext' | 'echo', connections: number): PlannedGroup {
  const workload = WORKLOADS.find((w) => w.id === workloadId) as (typeof WORKLOADS)[number];
  return {
    key: `test: ${workloadId} × ${connections}`,
    family: 'matrix',
    workload,
    connections,
    cells: ids.map((id) => ({
      key: `${id} × ${workloadId} × ${connections}`,
      model: model(id),
      workload,
      connections,
    })),
    estimateSec: 5,
  };
}

function context(generator: HttpGenerator, rounds: number[]): GroupContext {
  return {
    options: { quick: true, progress: () => {}, signal: controller.signal, cliPath: CLI },
    worker,
    timing: TIMING,
    pinning,
    node: { path: process.execPath, version: process.version, socketTransfer: false },
    generator,
    onRound: (round) => rounds.push(round),
  };
}

/** The models in the order their windows started, one letter per window. */
function windowOrder(cells: Awaited<ReturnType<typeof runGroup>>): string[] {
  return cells
    .flatMap((c) => (c.repetitions ?? []).map((w) => ({ model: c.model, at: w.startedAtMs ?? 0 })))
    .sort((a, b) => a.at - b.at)
    .map((w) => w.model);
}

describe('start-up outcome', () => {
  const base = { connections: 10, failed: 0, firstAnswerMs: null, capSec: 5, errors: {} };
  it('separates started, refused by a cap, and not started within the cap', () => {
    expect(startupOf({ ...base, answered: 10, allAnsweredMs: 80 }).outcome).toBe('started');
    expect(startupOf({ ...base, answered: 4, failed: 6, allAnsweredMs: null }).outcome).toBe('refused');
    expect(startupOf({ ...base, answered: 4, allAnsweredMs: null }).outcome).toBe('did-not-start');
  });
});

const generators: HttpGenerator[] = wrkAvailable() ? ['wrk', 'autocannon'] : ['autocannon'];

describe.each(generators)('a group measured with %s', (generator) => {
  it('keeps both servers up, probes start-up, and interleaves the windows in rotating order', async () => {
    const rounds: number[] = [];
    const cells = await runGroup(context(generator, rounds), group(['loop', 'node-http'], 'plaintext', 4));
    expect(rounds).toEqual([0, 1, 2]);
    for (const cell of cells) {
      expect(cell.status, cell.reason).toBe('ok');
      expect(cell.repetitions).toHaveLength(3);
      expect(cell.summary?.requests).toBeGreaterThan(0);
      expect(cell.startup).toMatchObject({ outcome: 'started', connections: 4, answered: 4 });
      expect(cell.startup?.allAnsweredMs).toBeGreaterThan(0);
      expect(cell.server?.pinned).toBe(pinning.serverCpu !== undefined);
      // Stopped at the end of the group: the exit stats line was read.
      expect(cell.serverStats?.requests).toBeGreaterThan(0);
      // The generator's own CPU is read around every window, wrk's included.
      for (const w of cell.repetitions ?? []) expect(w.loadgenCpuPercent).toBeGreaterThan(0);
    }
    expect(windowOrder(cells)).toEqual(['loop', 'node-http', 'node-http', 'loop', 'loop', 'node-http']);
  }, 60_000);
});

describe('a model that serves fewer connections at once than the group opens', () => {
  it('probes the connection-mode pool only up to its threads: the rest queue by design, they are not starting', async () => {
    const pool = model('pool-connection');
    const [cell] = await runGroup(
      context(generators[0] as HttpGenerator, []),
      group(['pool-connection'], 'plaintext', (pool.servesAtOnce ?? 4) + 3),
    );
    expect(cell?.startup).toMatchObject({
      outcome: 'started',
      connections: pool.servesAtOnce,
      queuedByDesign: 3,
    });
    expect(cell?.status, cell?.reason).toBe('ok');
  }, 60_000);
});

describe('a group with a framed workload and a skipped model', () => {
  it('measures echo-lp on the framed generator and records the HTTP-only model as skipped', async () => {
    const plan = group(['loop', 'node-http'], 'echo', 4);
    const cells = await runGroup(context('autocannon', []), {
      ...plan,
      cells: plan.cells.map((c) =>
        c.model.id === 'node-http' ? { ...c, skipReason: 'speaks HTTP only' } : c,
      ),
    });
    expect(cells.map((c) => [c.model, c.status])).toEqual([
      ['loop', 'ok'],
      ['node-http', 'skipped'],
    ]);
    expect(cells[0]?.startup?.outcome).toBe('started');
    expect(cells[0]?.repetitions).toHaveLength(3);
  }, 60_000);
});
