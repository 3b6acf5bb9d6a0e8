/**
 * The lab removes what it made: after destroy(), after SIGTERM/SIGINT, after an uncaught error, and — for a
 * SIGKILLed owner, which cannot clean up — through `removeLabRun` (what `iolab lab down` does).
 * Needs root (CAP_NET_ADMIN + CAP_SYS_ADMIN), `ip` and `nft`; skipped with a message otherwise. Assertions
 * are per run prefix: other runs may have lab namespaces of their own at the same time.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { CleanupRegistry } from './cleanup-registry.js';
import { listLabNamespaces, listLabRuns, removeLabRun } from './inventory.js';
import { labUnavailableReason } from './privileges.js';
import { findTool } from './system-command.js';
import { createLab, type Lab, labStateDir } from './topology.js';

const skipReason = labUnavailableReason(['ip', 'nft', 'sysctl']);
if (skipReason) console.warn(`lab-cleanup: SKIPPED — ${skipReason}`);
const keepalivedPath = findTool('keepalived');

const dist = pathToFileURL(join(import.meta.dirname, '..', 'dist', 'index.js')).href;
// Made in beforeAll, not at import: a skipped suite must not leave a directory behind.
let scratch = '';
let childScript = '';
const children: ChildProcess[] = [];

/** A process that builds a lab (and a keepalived in it), prints its prefix, then waits or fails. */
const CHILD = `
const lab = await import(process.argv[2]);
const mode = process.argv[3];
const l = lab.createLab({ realServers: 1, directors: 1 });
let kpid = 0;
if (process.argv[4]) {
  const dir = lab.keepalivedWorkDir();
  const k = lab.startKeepalived({ ns: l.directors[0].ns, dir, config: lab.renderKeepalivedConfig({
    name: 't', interface: 'front', virtualRouterId: 7, priority: 100, preempt: true,
    addresses: [{ cidr: l.vip + '/24', dev: 'front' }], unicastSource: l.directors[0].front.address, unicastPeers: ['198.51.100.3'] }) });
  await k.waitFor('MASTER', 20000);
  kpid = k.pid;
}
console.log('ready ' + l.prefix + ' ' + kpid);
if (mode === 'throw') setTimeout(() => { throw new Error('boom'); }, 10);
else if (mode === 'exit') setTimeout(() => process.exit(3), 10);
else setInterval(() => {}, 1000);
`;

function startChild(
  mode: string,
  withKeepalived: boolean,
): Promise<{ child: ChildProcess; prefix: string; kpid: number }> {
  const child = spawn(process.execPath, [childScript, dist, mode, withKeepalived ? 'k' : ''], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    let out = '';
    let err = '';
    child.stderr?.on('data', (c: Buffer) => {
      err += c.toString();
    });
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /ready (\S+) (\d+)/.exec(out);
      if (m) resolve({ child, prefix: m[1] as string, kpid: Number(m[2]) });
    });
    child.once('exit', (code) => reject(new Error(`lab child exited ${code} before ready: ${err}`)));
  });
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

/** Running (a zombie awaiting its reaper counts as gone). */
function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

function hostNetwork(): string[] {
  return ['link', 'addr', 'route'].map((what) =>
    execFileSync('ip', ['-o', what], { encoding: 'utf8' }).replace(/ +(valid|preferred)_lft \S+/g, ''),
  );
}

function leftovers(prefix: string): string[] {
  return listLabNamespaces().filter((ns) => ns.startsWith(`${prefix}-`));
}

describe.skipIf(skipReason !== undefined)('lab cleanup', { timeout: 60_000 }, () => {
  let lab: Lab | undefined;
  const registry = new CleanupRegistry();
  afterEach(() => {
    lab?.destroy();
    lab = undefined;
    registry.runAll();
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  });
  beforeAll(() => {
    scratch = mkdtempSync(join(tmpdir(), 'iolab-lab-test-'));
    childScript = join(scratch, 'lab-child.mjs');
    writeFileSync(childScript, CHILD);
  });
  afterAll(() => {
    for (const run of listLabRuns()) if (children.some((c) => c.pid === run.ownerPid)) removeLabRun(run);
    rmSync(scratch, { recursive: true, force: true });
  });

  it('builds namespaces that reach each other on both bridges, then destroy() removes every one', () => {
    const hostBefore = hostNetwork();
    lab = createLab({ realServers: 2, directors: 1, registry });
    expect(lab.namespaces).toHaveLength(5);
    for (const ns of lab.namespaces) expect(ns.startsWith(`${lab.prefix}-`)).toBe(true);
    expect(leftovers(lab.prefix).sort()).toEqual([...lab.namespaces].sort());
    // Everything is inside the namespaces: the host's links, addresses and routes are unchanged.
    expect(hostNetwork()).toEqual(hostBefore);
    const connect = (ns: string, host: string): string =>
      lab!
        .exec(ns, process.execPath, [
          '-e',
          `require('net').connect(7,'${host}').on('error',e=>{console.log(e.code);process.exit(0)}).on('connect',()=>{console.log('open');process.exit(0)})`,
        ])
        .trim();
    // Nothing listens on port 7: an immediate RST (ECONNREFUSED) proves the path; a timeout would not come back.
    expect(connect(lab.client.ns, lab.directors[0]!.front.address)).toBe('ECONNREFUSED');
    expect(connect(lab.realServers[1]!.ns, lab.directors[0]!.back.address)).toBe('ECONNREFUSED');
    const prefix = lab.prefix;
    lab.destroy();
    lab = undefined;
    expect(leftovers(prefix)).toEqual([]);
    expect(existsSync(join(labStateDir(), `${prefix.slice('iolab-'.length)}.json`))).toBe(false);
    expect(registry.pending()).toEqual([]);
  });

  it.each(['SIGTERM', 'SIGINT'] as const)(
    'a %s to the owner removes its namespaces and kills its keepalived',
    async (signal) => {
      // keepalived in the SIGTERM case only: its start-up is the slow part, and one proof is enough.
      const { child, prefix, kpid } = await startChild(
        'wait',
        signal === 'SIGTERM' && keepalivedPath !== undefined,
      );
      expect(leftovers(prefix).length).toBe(4);
      if (kpid) expect(alive(kpid)).toBe(true);
      child.kill(signal);
      await exited(child);
      expect(child.signalCode).toBe(signal);
      expect(leftovers(prefix)).toEqual([]);
      if (kpid) expect(alive(kpid)).toBe(false);
    },
  );

  it.each(['throw', 'exit'])('an owner that ends by %s leaves nothing behind', async (mode) => {
    const { child, prefix } = await startChild(mode, false);
    await exited(child);
    expect(leftovers(prefix)).toEqual([]);
  });

  it('a SIGKILLed owner leaves a run that inventory reports as orphaned and removeLabRun clears', async () => {
    const { child, prefix } = await startChild('wait', false);
    child.kill('SIGKILL');
    await exited(child);
    const run = listLabRuns().find((r) => `iolab-${r.id}` === prefix);
    expect(run?.ownerAlive).toBe(false);
    expect(run?.namespaces.length).toBe(4);
    removeLabRun(run!);
    expect(leftovers(prefix)).toEqual([]);
  });

  it('leaves no iolab nft table in the host namespace', () => {
    expect(execFileSync('nft', ['list', 'tables'], { encoding: 'utf8' })).not.toMatch(/iolab/);
  });
});
