import { type ChildProcess, spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { findStrays, killStrays, RUN_MARKER_ENV } from './process-sweep.js';

const started: ChildProcess[] = [];
afterEach(() => {
  for (const child of started.splice(0)) child.kill('SIGKILL');
});

function waitExit(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

describe('findStrays / killStrays', () => {
  it('finds a grandchild through its parent chain and kills it', async () => {
    // sh → sleep: the sleep is our grandchild.
    const sh = spawn('/bin/sh', ['-c', 'sleep 30 & wait'], { stdio: 'ignore' });
    started.push(sh);
    await new Promise((r) => setTimeout(r, 200));
    const strays = findStrays(process.pid);
    const sleep = strays.find((s) => s.cmdline.startsWith('sleep 30'));
    expect(sleep).toBeDefined();
    expect(strays.some((s) => s.pid === sh.pid)).toBe(true);
    killStrays(strays.filter((s) => s.pid === sh.pid || s.pid === sleep?.pid));
    await waitExit(sh);
    await new Promise((r) => setTimeout(r, 100));
    expect(findStrays(process.pid).some((s) => s.pid === sleep?.pid)).toBe(false);
  });

  it('finds a process by the run marker even when it is not our descendant', async () => {
    const marker = `sweep-${process.pid}-${Date.now()}`;
    // setsid + a double fork: the sleep is re-parented to init, only the marker ties it to us.
    const sh = spawn('/bin/sh', ['-c', 'sleep 30 >/dev/null 2>&1 &'], {
      stdio: 'ignore',
      env: { ...process.env, [RUN_MARKER_ENV]: marker },
      detached: true,
    });
    started.push(sh);
    await waitExit(sh);
    await new Promise((r) => setTimeout(r, 200));
    const strays = findStrays(0, marker);
    expect(strays.map((s) => s.cmdline)).toEqual(['sleep 30']);
    expect(killStrays(strays)).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 100));
    expect(findStrays(0, marker)).toEqual([]);
  });
});
