// The command as a process: wildcard listen, a commented YAML config, --version, and what SIGHUP does to
// backends added through the admin API (they are removed, one log line each: the file is the truth).
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { until } from '@iolab/testkit';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { cleanup, startBackend, whoServes } from '../test-support.js';

const ENTRY = fileURLToPath(new URL('./test-command-entry.ts', import.meta.url));
const dir = mkdtempSync(join(tmpdir(), 'iolab-command-'));
const children: ChildProcess[] = [];

afterEach(async () => {
  for (const c of children.splice(0)) {
    if (c.exitCode !== null || c.signalCode !== null) continue;
    const exited = new Promise((r) => c.once('exit', r));
    c.kill('SIGKILL');
    await exited;
  }
  await cleanup();
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Running {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  line: (re: RegExp) => Promise<RegExpExecArray>;
}

function run(args: string[]): Running {
  const child = spawn(process.execPath, ['--import', 'tsx', ENTRY, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
  });
  return {
    child,
    stdout: () => out,
    stderr: () => err,
    async line(re) {
      let m: RegExpExecArray | null = null;
      await until(() => (m = re.exec(out)) !== null || child.exitCode !== null, `stdout ${re}`, 15_000);
      if (!m) throw new Error(`exited ${child.exitCode} before ${re}; stderr: ${err}`);
      return m;
    },
  };
}

async function exitOf(r: Running): Promise<number | null> {
  if (r.child.exitCode !== null) return r.child.exitCode;
  return new Promise((res) => r.child.once('exit', (code) => res(code)));
}

describe('iolab-balancer as a process', () => {
  it('--version prints the package version', async () => {
    const r = run(['--version']);
    expect(await exitOf(r)).toBe(0);
    expect(r.stdout()).toMatch(/^iolab-balancer \d+\.\d+\.\d+\n$/);
  });

  it("--listen '*:0' starts on every IPv4 address and proxies", async () => {
    const b = await startBackend('only');
    const r = run([
      '--listen',
      '*:0',
      '--backend',
      `127.0.0.1:${b.port}`,
      '--connect-timeout',
      '5s',
      '--no-health',
    ]);
    const [, port] = await r.line(/listening on 0\.0\.0\.0:(\d+)\n/);
    expect(await whoServes(Number(port))).toBe('only');
  });

  it('runs a commented YAML config; weight 3 against 1 splits connections 3:1 under the default policy', async () => {
    const heavy = await startBackend('heavy');
    const light = await startBackend('light');
    const file = join(dir, 'weighted.yaml');
    writeFileSync(
      file,
      `# a commented YAML config
listeners:
  - { port: 0, pool: app } # default host 127.0.0.1
pools:
  - name: app
    health: { enabled: false }
    backends:
      - { host: 127.0.0.1, port: ${heavy.port}, weight: 3 } # three of every four
      - { host: 127.0.0.1, port: ${light.port} }
timeouts:
  connect: 5s
`,
    );
    const r = run(['--config', file]);
    const [, port] = await r.line(/listening on 127\.0\.0\.1:(\d+)\n/);
    const seen: Record<string, number> = {};
    for (let i = 0; i < 40; i++) {
      const who = await whoServes(Number(port));
      seen[who] = (seen[who] ?? 0) + 1;
    }
    expect(seen).toEqual({ heavy: 30, light: 10 });
  });

  it('--check fails (exit 1) on a listen address start could not bind; --check --print shows the merged config', async () => {
    const bad = run(['--check', '--listen', 'no-such-host.invalid:0', '--backend', '127.0.0.1:9']);
    expect(await exitOf(bad)).toBe(1);
    expect(bad.stderr()).toMatch(/\/listeners\/0\/host: does not resolve/);
    const file = join(dir, 'print.yaml');
    writeFileSync(
      file,
      'listeners: [{ port: 8080, pool: p }]\npools: [{ name: p, backends: [{ host: 127.0.0.1, port: 9 }] }]\n',
    );
    const ok = run([
      '--config',
      file,
      '--check',
      '--print',
      '--connect-timeout',
      '2s',
      '--listen',
      '127.0.0.1:0',
    ]);
    expect(await exitOf(ok)).toBe(0);
    const printed = JSON.parse(ok.stdout());
    expect(printed.listeners).toEqual([
      expect.objectContaining({ port: 0, timeouts: expect.objectContaining({ connect: 2000 }) }),
    ]);
    expect(printed.pools[0].health.interval).toBe(2000);
  });

  const TOKEN = 'command-process-token-0123456789';
  it('SIGHUP removes backends added through the admin API, logging one line per backend', async () => {
    const a = await startBackend('a');
    const extra = await startBackend('extra');
    const file = join(dir, 'reload.json');
    writeFileSync(
      file,
      JSON.stringify({
        listeners: [{ port: 0, pool: 'p' }],
        pools: [
          { name: 'p', health: { enabled: false }, backends: [{ id: 'a', host: '127.0.0.1', port: a.port }] },
        ],
        admin: { port: 0, token: TOKEN },
      }),
    );
    const r = run(['--config', file]);
    const [, adminPort] = await r.line(/admin on 127\.0\.0\.1:(\d+)\n/);
    const [, port] = await r.line(/listening on 127\.0\.0\.1:(\d+)\n/);
    const added = await fetch(`http://127.0.0.1:${adminPort}/pools/p/backends`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ id: 'extra', host: '127.0.0.1', port: extra.port }),
    });
    expect(added.status).toBe(201);
    const before = new Set<string>();
    for (let i = 0; i < 4; i++) before.add(await whoServes(Number(port)));
    expect(before).toEqual(new Set(['a', 'extra']));

    r.child.kill('SIGHUP');
    await until(() => /backend-removed-by-reload/.test(r.stderr()), 'the removal log line', 10_000);
    const logged = r
      .stderr()
      .split('\n')
      .filter((l) => l.includes('backend-removed-by-reload'))
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(logged).toEqual([
      expect.objectContaining({ pool: 'p', backend: 'extra', addedAtRunTime: true, level: 40 }),
    ]);
    // Removal drains first (no connection is held here), then the backend is forgotten.
    const ids = async () =>
      (
        (await (
          await fetch(`http://127.0.0.1:${adminPort}/stats`, {
            headers: { authorization: `Bearer ${TOKEN}` },
          })
        ).json()) as {
          pools: { backends: { id: string }[] }[];
        }
      ).pools[0]!.backends.map((b) => b.id);
    for (let i = 0; i < 50 && (await ids()).length > 1; i++) await new Promise((res) => setTimeout(res, 100));
    expect(await ids()).toEqual(['a']);
    for (let i = 0; i < 3; i++) expect(await whoServes(Number(port))).toBe('a');
  });
});
