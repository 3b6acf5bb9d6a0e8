import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { until } from '@iolab/testkit';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { cleanup, connectLines, startIdBackend, startListening, whoServes } from './test-balance-process.js';

const dir = mkdtempSync(join(tmpdir(), 'iolab-balance-reload-'));
afterEach(cleanup);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function config(backendPorts: number[], extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    listeners: [{ name: 'main', host: '127.0.0.1', port: 0, pool: 'web' }],
    pools: [
      {
        name: 'web',
        health: { enabled: false },
        backends: backendPorts.map((port) => ({ host: '127.0.0.1', port })),
      },
    ],
    ...extra,
  });
}

describe('iolab balance reload (SIGHUP)', { timeout: 30_000 }, () => {
  it('applies a new config without dropping an established connection; a bad one keeps the old running', async () => {
    const a = await startIdBackend('A');
    const b = await startIdBackend('B');
    const file = join(dir, 'balancer.json');
    writeFileSync(file, config([a.port]));
    const { proc, port } = await startListening(['--config', file]);
    const reloads = (event: string) => proc.logs().filter((l) => l.event === event).length;

    const established = await connectLines(port);
    expect(await established.nextLine()).toBe('A');
    established.socket.write('before\n');
    expect(await established.nextLine()).toBe('before');

    // 1. Swap A for B.
    writeFileSync(file, config([b.port]));
    proc.child.kill('SIGHUP');
    await until(() => reloads('reload-ok') === 1, 'reload-ok');
    expect(await whoServes(port)).toBe('B');
    expect(await whoServes(port)).toBe('B');
    // The connection made before the reload still reaches A, both ways.
    established.socket.write('after reload\n');
    expect(await established.nextLine()).toBe('after reload');

    // 2. A bad file: logged with the field, the previous config keeps serving.
    writeFileSync(file, config([70000]));
    proc.child.kill('SIGHUP');
    await until(() => reloads('reload-failed') === 1, 'reload-failed');
    const failed = proc.logs().find((l) => l.event === 'reload-failed')!;
    expect(failed.level).toBe(50);
    expect(JSON.stringify(failed.issues)).toContain('/pools/0/backends/0/port');
    expect(await whoServes(port)).toBe('B');

    // 3. Not JSON at all: same.
    writeFileSync(file, '{ "listeners": ');
    proc.child.kill('SIGHUP');
    await until(() => reloads('reload-failed') === 2, 'second reload-failed');
    expect(await whoServes(port)).toBe('B');
    established.socket.write('still\n');
    expect(await established.nextLine()).toBe('still');

    // 4. A good file again is applied (weights and both backends).
    writeFileSync(file, config([a.port, b.port]));
    proc.child.kill('SIGHUP');
    await until(() => reloads('reload-ok') === 2, 'second reload-ok');
    const seen = new Set([await whoServes(port), await whoServes(port)]);
    expect(seen).toEqual(new Set(['A', 'B']));
    expect(proc.child.exitCode).toBeNull();
    // The pre-reload connection was never cut.
    expect(established.socket.destroyed).toBe(false);
  });
});
