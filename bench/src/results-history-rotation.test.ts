import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { compareRuns, rotateResults } from './results-history.js';
import { sampleResults } from './test-results-fixture.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'iolab-bench-history-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('rotateResults', () => {
  it('does nothing on a first run', async () => {
    expect(await rotateResults(dir)).toBeUndefined();
    expect(await readdir(dir)).toEqual([]);
  });

  it('moves the last results.json into history/, named by its start time, and hands it back', async () => {
    const previous = sampleResults();
    await writeFile(join(dir, 'results.json'), JSON.stringify(previous));
    const rotated = await rotateResults(dir);
    expect(rotated?.results?.startedAt).toBe(previous.startedAt);
    expect(rotated?.path).toBe(join(dir, 'history', '2026-11-21T14-00-00-000Z.json'));
    expect(await readdir(dir)).toEqual(['history']);
    expect(JSON.parse(await readFile(rotated?.path as string, 'utf8'))).toEqual(previous);
  });

  it('keeps two runs that started in the same millisecond apart', async () => {
    for (let i = 0; i < 2; i++) {
      await writeFile(join(dir, 'results.json'), JSON.stringify(sampleResults()));
      await rotateResults(dir);
    }
    expect((await readdir(join(dir, 'history'))).sort()).toEqual([
      '2026-11-21T14-00-00-000Z-1.json',
      '2026-11-21T14-00-00-000Z.json',
    ]);
  });

  it('prunes history to the newest `keep` files', async () => {
    for (let minute = 0; minute < 5; minute++) {
      const startedAt = `2026-11-21T14:0${minute}:00.000Z`;
      await writeFile(join(dir, 'results.json'), JSON.stringify(sampleResults({ startedAt })));
      await rotateResults(dir, 3);
    }
    expect((await readdir(join(dir, 'history'))).sort()).toEqual([
      '2026-11-21T14-02-00-000Z.json',
      '2026-11-21T14-03-00-000Z.json',
      '2026-11-21T14-04-00-000Z.json',
    ]);
  });

  it('still moves an unreadable file out of the way, and says why it cannot be compared', async () => {
    await writeFile(join(dir, 'results.json'), '{ not json');
    const rotated = await rotateResults(dir);
    expect(rotated?.results).toBeUndefined();
    expect(rotated?.unusableBecause).toMatch(/not JSON/);
    expect(await readdir(join(dir, 'history'))).toHaveLength(1);
  });
});

describe('compareRuns', () => {
  it('gives per-cell deltas for cells present in both runs', () => {
    const base = sampleResults();
    const previous = sampleResults({
      sections: [
        {
          ...base.sections[0],
          results: {
            cells: [
              { key: 'loop × plaintext × 1', metrics: { requestsPerSec: 1000, p99Ms: 2 } },
              { key: 'skipped × both', metrics: { requestsPerSec: null, p99Ms: null } },
            ],
          },
        },
      ],
    } as never);
    const current = sampleResults({
      startedAt: '2026-11-21T15:00:00.000Z',
      sections: [
        {
          ...sampleResults().sections[0],
          id: 'throughput',
          results: {
            cells: [
              { key: 'loop × plaintext × 1', metrics: { requestsPerSec: 1500, p99Ms: 1 } },
              { key: 'bio × plaintext × 1', metrics: { requestsPerSec: 700, p99Ms: 3 } },
              { key: 'skipped × both', metrics: { requestsPerSec: null, p99Ms: null } },
            ],
          },
        },
      ],
    } as never);
    const cmp = compareRuns(previous, current);
    expect(cmp.cells).toHaveLength(1);
    expect(cmp.onlyInCurrent).toBe(1);
    expect(cmp.onlyInPrevious).toBe(0);
    const cell = cmp.cells[0];
    expect(cell?.key).toBe('loop × plaintext × 1');
    expect(cell?.metrics.requestsPerSec).toEqual({ previous: 1000, current: 1500, deltaPercent: 50 });
    expect(cell?.metrics.p99Ms?.deltaPercent).toBe(-50);
    expect(cmp.sameMode).toBe(true);
  });
});
