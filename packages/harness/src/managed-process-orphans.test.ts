import { spawn } from 'node:child_process';
import { isAlive as alive, untilGone as waitGone } from '@iolab/testkit';
import { afterEach, describe, expect, it, vi } from 'vitest';

// Each test starts and kills a Node process tree, ~2 s on an idle 2-core machine; a CI runner running
// every package's tests at once was ~1.8x slower (a 2.8 s relay test timed out at vitest's 5 s there).
vi.setConfig({ testTimeout: 30_000 });

// The parent imports the built package, as the bench does: build before testing.
const DIST = new URL('../dist/index.js', import.meta.url).href;
const SERVER = `const net=require('node:net');const s=net.createServer((c)=>c.pipe(c));s.listen(0,'127.0.0.1',()=>console.log('listening on 127.0.0.1:'+s.address().port));`;
const PARENT = `
import { spawnManaged } from ${JSON.stringify(DIST)};
const p = await spawnManaged({ command: process.execPath, args: ['-e', ${JSON.stringify(SERVER)}] });
console.log('child ' + p.pid);
setInterval(() => {}, 1000);
`;

const pids: number[] = [];
afterEach(() => {
  for (const pid of pids.splice(0)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone, as it should be.
    }
  }
});

async function startParent(): Promise<{ parent: number; child: number }> {
  const parent = spawn(process.execPath, ['--input-type=module', '-e', PARENT], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  pids.push(parent.pid as number);
  const child = await new Promise<number>((resolve, reject) => {
    let out = '';
    parent.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /child (\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    parent.once('exit', (code) => reject(new Error(`parent exited ${code}: ${out}`)));
  });
  pids.push(child);
  return { parent: parent.pid as number, child };
}

describe('managed children never outlive the generator', () => {
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    it(`${signal} to the generator kills its children`, async () => {
      const { parent, child } = await startParent();
      expect(alive(child)).toBe(true);
      process.kill(parent, signal);
      expect(await waitGone(parent)).toBe(true);
      expect(await waitGone(child)).toBe(true);
    });
  }

  it.skipIf(process.platform !== 'linux')(
    'SIGKILL to the generator still kills its children (pdeathsig)',
    async () => {
      const { parent, child } = await startParent();
      process.kill(parent, 'SIGKILL');
      expect(await waitGone(parent)).toBe(true);
      expect(await waitGone(child)).toBe(true);
    },
  );
});
