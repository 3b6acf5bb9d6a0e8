import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { framingSection } from './framing-section.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});
function file(content: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'iolab-framing-rows-'));
  dirs.push(dir);
  const path = join(dir, 'decode.json');
  writeFileSync(path, content);
  return path;
}

const rows = {
  date: '2026-01-01T00:00:00.000Z',
  node: 'v20.0.0',
  cpu: 'test cpu',
  cpus: 2,
  quick: true,
  statistic: 'ops/s are medians over 4 interleaved rounds.',
  command: 'IOLAB_QUICK=1 npm run bench -w @iolab/framing',
  rows: [
    {
      scenario: '64 B varint frames',
      task: '@iolab/framing LengthFieldDecoder',
      role: 'ours',
      opsPerSec: 1234.5,
      mbPerSec: 5.25,
      rmePercent: 1.25,
      samples: 40,
      ratioToFastestPeer: 3.5,
    },
    {
      scenario: '64 B varint frames',
      task: 'it-length-prefixed | sync',
      role: 'peer',
      opsPerSec: 352.7,
      mbPerSec: 1.5,
      rmePercent: 2,
      samples: 40,
      ratioToFastestPeer: 1,
    },
  ],
  targets: [
    { target: 'sync core ≥ 3× the fastest peer', ratio: 3.5, threshold: 3, met: true },
    { target: 'information only', ratio: 0.5, threshold: null, met: null },
  ],
};

describe('framingSection', () => {
  it('turns plain rows into tables with right-aligned numbers, conclusions from the targets and a chart', async () => {
    const section = await framingSection(file(JSON.stringify(rows)));
    expect(section?.id).toBe('framing');
    expect(section?.markdown).toContain('|---|---|---:|---:|---:|---:|---:|');
    expect(section?.markdown).toContain(
      '| 64 B varint frames | @iolab/framing LengthFieldDecoder | 1,235 | 5.25 | 1.3% | 40 | 3.50× |',
    );
    // A pipe inside a task name must not split the row.
    expect(section?.markdown).toContain('it-length-prefixed \\| sync');
    expect(section?.conclusions).toEqual([
      'sync core ≥ 3× the fastest peer: measured 3.50× — met.',
      'information only: measured 0.50×.',
    ]);
    expect(section?.charts[0]?.id).toBe('framing-throughput');
    expect(section?.commands).toEqual(['IOLAB_QUICK=1 npm run bench -w @iolab/framing']);
  });

  it('returns undefined when the micro-benchmark has not run', async () => {
    expect(await framingSection(join(tmpdir(), 'iolab-no-such-dir', 'decode.json'))).toBeUndefined();
  });

  it('rejects a file that is not the framing rows', async () => {
    await expect(framingSection(file('{"title":"old section format"}'))).rejects.toThrow(
      /not the framing bench/,
    );
  });
});
