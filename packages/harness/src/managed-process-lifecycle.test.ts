import { isAlive as alive, untilGone as waitGone } from '@iolab/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { liveManagedCount } from './child-registry.js';
import { ChildExitedError, ReadyTimeoutError } from './errors.js';
import { type ManagedProcess, spawnManaged } from './managed-process.js';
import { diffSamples, sampleProcess } from './proc-stats.js';

const SERVER = `
const net = require('node:net');
const s = net.createServer((c) => c.pipe(c));
s.listen(0, '127.0.0.1', () => console.log('listening on 127.0.0.1:' + s.address().port));
process.on('SIGTERM', () => { s.close(); process.exit(0); });
`;

const started: ManagedProcess[] = [];
afterEach(async () => {
  await Promise.all(started.splice(0).map((p) => p.stop('SIGKILL')));
});

describe('spawnManaged', () => {
  it('parses host and port from the ready line, samples the child and kills it on stop', async () => {
    const proc = await spawnManaged({ command: process.execPath, args: ['-e', SERVER], cpu: 0 });
    started.push(proc);
    expect(proc.host).toBe('127.0.0.1');
    expect(proc.port).toBeGreaterThan(0);
    expect(proc.commandLine).toContain(process.execPath);
    if (process.platform === 'linux') {
      const a = proc.sample();
      expect(a?.rssBytes).toBeGreaterThan(1024 * 1024);
      expect(a?.threads).toBeGreaterThanOrEqual(1);
      // taskset exists on this Linux box: the kernel must report the affinity we asked for.
      expect(proc.pinned).toBe(proc.commandLine.includes('taskset'));
      const b = sampleProcess(proc.pid);
      if (a && b) expect(diffSamples(a, b).wallMs).toBeGreaterThanOrEqual(0);
    }
    const exit = await proc.stop();
    expect(exit.code === 0 || exit.signal === 'SIGTERM').toBe(true);
    expect(await waitGone(proc.pid)).toBe(true);
    expect(proc.sample()).toBeUndefined();
  });

  it('escalates to SIGKILL when the child ignores SIGTERM', async () => {
    const stubborn = `${SERVER.replace("process.on('SIGTERM', () => { s.close(); process.exit(0); });", '')}
process.on('SIGTERM', () => {});`;
    const proc = await spawnManaged({ command: process.execPath, args: ['-e', stubborn] });
    started.push(proc);
    const exit = await proc.stop('SIGTERM', 300);
    expect(exit.signal).toBe('SIGKILL');
    expect(await waitGone(proc.pid)).toBe(true);
  });

  it('kills the child when the AbortSignal fires', async () => {
    const controller = new AbortController();
    const proc = await spawnManaged({
      command: process.execPath,
      args: ['-e', SERVER],
      signal: controller.signal,
    });
    started.push(proc);
    expect(alive(proc.pid)).toBe(true);
    controller.abort();
    await proc.exited;
    expect(await waitGone(proc.pid)).toBe(true);
  });

  it('rejects with the stderr tail when the child exits before ready', async () => {
    const err = await spawnManaged({
      command: process.execPath,
      args: ['-e', 'console.error("port in use, sorry"); process.exit(3)'],
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ChildExitedError);
    expect((err as ChildExitedError).code).toBe('IOLAB_HARNESS_CHILD_EXITED');
    expect((err as ChildExitedError).exitCode).toBe(3);
    expect((err as ChildExitedError).message).toContain('port in use, sorry');
  });

  it('times out and kills a child that never becomes ready', async () => {
    const err = await spawnManaged({
      command: process.execPath,
      args: ['-e', 'console.log(process.pid); setInterval(() => {}, 1000)'],
      readyTimeoutMs: 500,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ReadyTimeoutError);
    expect((err as ReadyTimeoutError).code).toBe('IOLAB_HARNESS_READY_TIMEOUT');
    await new Promise((r) => setTimeout(r, 200));
    expect(liveManagedCount()).toBe(0);
  });

  it('aborting before ready rejects and leaves no child', async () => {
    const controller = new AbortController();
    const pending = spawnManaged({
      command: process.execPath,
      args: ['-e', 'setInterval(() => {}, 1000)'],
      signal: controller.signal,
    });
    setTimeout(() => controller.abort(), 200);
    const err = await pending.catch((e: unknown) => e);
    expect((err as { code?: string }).code).toBe('IOLAB_HARNESS_ABORTED');
    await new Promise((r) => setTimeout(r, 200));
    expect(liveManagedCount()).toBe(0);
  });
});
