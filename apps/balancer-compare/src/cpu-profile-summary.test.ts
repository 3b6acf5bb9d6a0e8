import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { summariseCpuProfile } from './cpu-profile.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('summariseCpuProfile', () => {
  it('sums self time per function, leaves idle out of the busy total and ranks by self time', () => {
    const dir = mkdtempSync(join(tmpdir(), 'iolab-prof-test-'));
    dirs.push(dir);
    const file = join(dir, 'a.cpuprofile');
    const frame = (functionName: string, url = '', lineNumber = 0) => ({ functionName, url, lineNumber });
    writeFileSync(
      file,
      JSON.stringify({
        nodes: [
          { id: 1, callFrame: frame('(idle)') },
          { id: 2, callFrame: frame('onData', 'file:///x/packages/balancer/dist/proxy-session.js', 41) },
          { id: 3, callFrame: frame('', 'node:net', 9) },
        ],
        samples: [1, 2, 2, 3, 1],
        timeDeltas: [5_000, 3_000, 3_000, 2_000, 9_000],
      }),
    );
    const summary = summariseCpuProfile(file);
    expect(summary.totalMs).toBe(8);
    expect(summary.top).toEqual([
      { name: 'onData packages/balancer/dist/proxy-session.js:42', selfPercent: 75 },
      { name: '(anonymous) node:net:10', selfPercent: 25 },
    ]);
  });
});
