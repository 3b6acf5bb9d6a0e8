import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { resolveBalanceArgs, UsageError } from '@iolab/balancer/ops';
import { until } from '@iolab/testkit';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  CLI,
  cleanup,
  connectLines,
  countBy,
  sleep,
  startBalance,
  startIdBackend,
  startListening,
  whoServes,
} from './test-balance-process.js';

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'iolab-balance-cli-'));
afterEach(cleanup);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function balanceExit(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [CLI, 'balance', ...args], { timeout: 20_000 });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

// Each case starts a Node process; on a loaded 2-core machine that alone can take a second.
describe('iolab balance (CLI)', { timeout: 30_000 }, () => {
  it('--help documents every flag and exits 0', async () => {
    const { code, stdout } = await balanceExit(['--help']);
    expect(code).toBe(0);
    for (const flag of [
      '--listen',
      '--backend',
      'weight=',
      'backup',
      'proxy=v1|v2',
      '--policy',
      'round-robin',
      'p2c',
      '--health-interval',
      '--rise',
      '--fall',
      '--config',
      '--admin',
      '--workers',
      '--director',
      '--accept-proxy',
      'SIGHUP',
      'SIGTERM',
    ]) {
      expect(stdout).toContain(flag);
    }
  });

  it('bad usage prints why and exits 2 (process)', async () => {
    const results = await Promise.all([
      balanceExit([]),
      balanceExit(['--listen', '127.0.0.1:0', '--frobnicate']),
    ]);
    expect(results[0]).toMatchObject({ code: 2, stdout: '' });
    expect(results[0]!.stderr).toMatch(/--listen HOST:PORT \(or --config FILE\) is required/);
    expect(results[1]).toMatchObject({ code: 2 });
    expect(results[1]!.stderr).toMatch(/Unknown option '--frobnicate'/);
  });

  it('rejects each kind of bad flag with a message naming it', async () => {
    const cases: [string[], RegExp][] = [
      [['--listen', '127.0.0.1:0'], /at least one --backend/],
      [['--listen', 'nohost', '--backend', '127.0.0.1:1'], /--listen "nohost": expected HOST:PORT/],
      [['--listen', '127.0.0.1:99999', '--backend', '127.0.0.1:1'], /port must be 0\.\.65535/],
      [
        ['--listen', '127.0.0.1:0', '--backend', '127.0.0.1:1,weight=heavy'],
        /weight: expected a non-negative integer/,
      ],
      [['--listen', '127.0.0.1:0', '--backend', '127.0.0.1:1,proxy=v3'], /proxy must be v1 or v2/],
      [['--listen', '127.0.0.1:0', '--backend', '127.0.0.1:1,colour=red'], /unknown option "colour=red"/],
      [
        ['--listen', '127.0.0.1:0', '--backend', '127.0.0.1:1', '--policy', 'fastest'],
        /--policy: must be one of/,
      ],
      [
        ['--listen', '127.0.0.1:0', '--backend', '127.0.0.1:1', '--rise', '0'],
        /\/pools\/0\/health\/rise: must be >= 1/,
      ],
      [['--listen', '127.0.0.1:0', '--backend', '127.0.0.1:1', '--workers', 'many'], /--workers: expected/],
    ];
    for (const [args, re] of cases) {
      const err = await resolveBalanceArgs(args).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err, args.join(' ')).toBeInstanceOf(UsageError);
      expect((err as Error).message).toMatch(re);
    }
    const { config } = await resolveBalanceArgs([
      '--listen',
      '127.0.0.1:0',
      '--director',
      '7000',
      '--backend',
      '10.0.0.1:80,weight=3,backup,proxy=v2,maxconn=5,id=one',
      '--policy',
      'least-conn',
      '--rise',
      '4',
      '--admin',
      '9100',
      '--workers',
      '2',
    ]);
    expect(config.balancer.listeners).toEqual([
      { host: '127.0.0.1', port: 0, pool: 'default' },
      { host: '127.0.0.1', port: 7000, pool: 'default', mode: 'director' },
    ]);
    expect(config.balancer.pools[0]).toMatchObject({
      policy: 'least-conn',
      health: { rise: 4 },
      backends: [
        { host: '10.0.0.1', port: 80, weight: 3, backup: true, proxyProtocol: 'v2', maxconn: 5, id: 'one' },
      ],
    });
    expect(config.admin).toEqual({ host: '127.0.0.1', port: 9100 });
    expect(config.workers).toBe(2);
  });

  it('a bad config file exits 1 naming the file, the field and why', async () => {
    const file = join(dir, 'bad.json');
    writeFileSync(
      file,
      JSON.stringify({
        listeners: [{ port: 0, pool: 'web' }],
        pools: [{ name: 'web', backends: [{ host: '127.0.0.1', port: 0 }], policy: 'random' }],
      }),
    );
    const { code, stderr } = await balanceExit(['--config', file]);
    expect(code).toBe(1);
    expect(stderr).toContain(file);
    expect(stderr).toMatch(/\/pools\/0\/backends\/0\/port: must be >= 1 \(got 0\)/);
    expect(stderr).toMatch(/\/pools\/0\/policy: must be one of/);
    const ok = join(dir, 'ok.json');
    writeFileSync(
      ok,
      JSON.stringify({ listeners: [{ port: 0, pool: 'p' }], pools: [{ name: 'p', backends: [] }] }),
    );
    expect(await balanceExit(['--config', ok, '--check'])).toMatchObject({ code: 0, stdout: 'config ok\n' });
  });

  it('prints exactly `listening on HOST:PORT` (the real port for :0), forwards, and logs each connection end', async () => {
    const a = await startIdBackend('A');
    const b = await startIdBackend('B');
    const { proc, port } = await startListening([
      '--listen',
      '127.0.0.1:0',
      '--backend',
      `127.0.0.1:${a.port}`,
      '--backend',
      `127.0.0.1:${b.port},weight=1`,
    ]);
    expect(proc.stdout()).toBe(`listening on 127.0.0.1:${port}\n`);
    expect(port).toBeGreaterThan(0);
    const served = countBy(await Promise.all(Array.from({ length: 6 }, () => whoServes(port))));
    expect(served).toEqual({ A: 3, B: 3 });
    await until(
      () => proc.logs().filter((l) => l.event === 'connection-end').length >= 6,
      'six connection ends',
    );
    const ends = proc.logs().filter((l) => l.event === 'connection-end');
    expect(ends).toHaveLength(6);
    for (const e of ends) {
      expect(e).toMatchObject({ closedBy: 'client', bytesOut: 2, pool: 'default' });
      expect(e.client).toMatch(/^127\.0\.0\.1:\d+$/);
      expect(typeof e.durationMs).toBe('number');
    }
    // stdout carries nothing but the listening line: logs went to stderr.
    expect(proc.stdout().split('\n').filter(Boolean)).toHaveLength(1);
  });

  it('SIGTERM stops accepting, lets an established connection finish, then exits 0', async () => {
    const a = await startIdBackend('A');
    const { proc, port } = await startListening([
      '--listen',
      '127.0.0.1:0',
      '--backend',
      `127.0.0.1:${a.port}`,
      '--drain-timeout',
      '20000',
    ]);
    const c = await connectLines(port);
    expect(await c.nextLine()).toBe('A');
    proc.child.kill('SIGTERM');
    await proc.untilOutput(/"event":"draining"/, 'stderr');
    // New connections are refused once draining...
    await expect(
      new Promise((resolve, reject) => {
        const s = connect({ host: '127.0.0.1', port }, () => {
          s.destroy();
          resolve('connected');
        });
        s.once('error', reject);
      }),
    ).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    // ...while the established one still works in both directions.
    c.socket.write('still here\n');
    expect(await c.nextLine()).toBe('still here');
    await sleep(200);
    expect(proc.child.exitCode).toBeNull();
    c.socket.end();
    const { code } = await proc.exited;
    expect(code).toBe(0);
    expect(proc.logs().some((l) => l.event === 'stopped')).toBe(true);
  });

  it('--director prints its address and answers with a backend address', async () => {
    const a = await startIdBackend('A');
    const proc = startBalance(['--director', '127.0.0.1:0', '--backend', `127.0.0.1:${a.port}`]);
    const m = await proc.untilOutput(/^director on 127\.0\.0\.1:(\d+)$/m);
    const c = await connectLines(Number(m[1]));
    expect(await c.nextLine()).toBe(`127.0.0.1:${a.port}`);
  });
});
