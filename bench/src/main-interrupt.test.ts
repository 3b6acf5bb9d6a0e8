/**
 * Ctrl-C end to end: start the real orchestrator as `npm run bench` does (`node --import tsx src/main.ts
 * --quick`), wait until it has started a server, send SIGINT, and check in /proc that nothing it started
 * survives. One process, as in the package scripts: tsx's CLI wrapper relays a signal to its child and
 * SIGKILLs that child if it has not acknowledged within ~60 ms, which a bench busy starting servers
 * sometimes has not, and then nothing gets cleaned up.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { untilValue } from '@iolab/testkit';
import { afterAll, describe, expect, it } from 'vitest';
import { findStrays, killStrays, RUN_MARKER_ENV } from './process-sweep.js';

const benchDir = fileURLToPath(new URL('..', import.meta.url));
const marker = `test-${randomUUID()}`;
let child: ChildProcess | undefined;
let reportsDir: string | undefined;

/** Every live process carrying this test's marker (found from /proc, whoever its parent is now). */
function marked(): ReturnType<typeof findStrays> {
  // Root pid 0 matches no process, so only the marker selects.
  return findStrays(0, marker, [process.pid]);
}

afterAll(async () => {
  child?.kill('SIGKILL');
  killStrays(marked());
  if (reportsDir) await rm(reportsDir, { recursive: true, force: true });
});

describe('bench main under Ctrl-C', () => {
  it('stops every process it started, writes a partial report and exits 130', async () => {
    reportsDir = await mkdtemp(join(tmpdir(), 'iolab-bench-interrupt-'));
    let stderr = '';
    const args = [
      '--import',
      'tsx',
      'src/main.ts',
      '--quick',
      '--only',
      'throughput',
      '--reports-dir',
      reportsDir,
    ];
    const proc = spawn(process.execPath, args, {
      cwd: benchDir,
      env: { ...process.env, [RUN_MARKER_ENV]: marker },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child = proc;
    proc.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    const exited = new Promise<number | null>((resolve) => proc.once('exit', (code) => resolve(code)));

    const server = await untilValue(
      () => marked().find((p) => p.cmdline.includes(' serve ') && !p.cmdline.startsWith('/bin/sh')),
      'an iolab server to start',
      60_000,
    );
    expect(server.cmdline).toContain('--port 0');
    proc.kill('SIGINT');
    const code = await Promise.race([
      exited,
      new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 40_000)),
    ]);
    expect(code, `bench did not exit after SIGINT; stderr:\n${stderr}`).toBe(130);

    // Children get SIGKILL/SIGTERM asynchronously; give the kernel a moment to reap them.
    const left = await untilValue(
      () => (marked().length === 0 ? [] : undefined),
      'marked processes to go',
      5_000,
    ).catch(() => marked());
    expect(left, `survivors: ${JSON.stringify(left)}`).toEqual([]);
    expect(stderr).toContain('SIGINT: stopping');

    const results = JSON.parse(await readFile(join(reportsDir, 'results.json'), 'utf8'));
    expect(results.aborted).toBe(true);
    expect(await readFile(join(reportsDir, 'REPORT.md'), 'utf8')).toContain('interrupted');
  }, 120_000);
});
