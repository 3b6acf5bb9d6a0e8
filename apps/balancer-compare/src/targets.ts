/**
 * What the client talks to: two backends (nginx, `iolab serve loop` or node:http) and, in front of them, each
 * proxy under test — `iolab balance`, HAProxy, nginx stream, the naive pipe proxy — or nothing (`direct`).
 *
 *   client (loadgen core) ──► proxy under test (server core) ──► backend A / backend B (loadgen core)
 *
 * A missing or broken peer is skipped with a reason; only the backends and `iolab balance` are required.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ManagedProcess } from '@iolab/harness';
import { haproxyConfig } from './haproxy-config.js';
import { nginxBackendConfig, nginxConfig, nginxHasStream } from './nginx-config.js';
import { findTool, freePort, type PeerProcesses } from './peer-process.js';
import { BACKEND_SCRIPT, NAIVE_PROXY_SCRIPT } from './pipe-proxy.js';
import type { TargetName } from './results.js';

export type BackendKind = 'nginx' | 'iolab' | 'node';

export const BACKEND_DESCRIPTIONS: Record<BackendKind, string> = {
  nginx:
    'nginx http ×2 (one process each, `return 200`, keep-alive; the cheapest backend at hand, so the proxy sets the pace)',
  iolab: '`iolab serve loop --protocol http` ×2 (GET /plaintext)',
  node: 'node:http ×2 (keep-alive, 1 small text body)',
};

export interface RunningTarget {
  readonly name: TargetName;
  readonly port: number;
  /** The proxy process whose CPU is measured; undefined for `direct`. */
  readonly proc?: ManagedProcess;
}

export interface Skipped {
  readonly target: string;
  readonly reason: string;
}

export interface TargetSetup {
  readonly peers: PeerProcesses;
  readonly signal: AbortSignal;
  /** The `iolab` script, run with `process.execPath`. */
  readonly cliPath: string;
  /** Scratch directory for peer configs, removed by the caller. */
  readonly dir: string;
  readonly proxyCpu: number | null;
  readonly backendCpu: number | null;
  readonly skipped: Skipped[];
}

/** Starts backends A and B; falls back from `iolab serve` to node:http when it will not start. */
export async function startBackends(
  setup: TargetSetup,
  wanted: BackendKind | undefined,
): Promise<{ kind: BackendKind; ports: number[] }> {
  const nginxBin = findTool('nginx');
  let kind: BackendKind = wanted ?? (nginxBin ? 'nginx' : 'iolab');
  if (kind === 'nginx' && !nginxBin) {
    setup.skipped.push({
      target: 'nginx backends',
      reason: 'nginx is not installed; using iolab serve loop',
    });
    kind = 'iolab';
  }
  const ports: number[] = [];
  const start = async (k: BackendKind): Promise<void> => {
    for (const name of ['A', 'B']) {
      if (k === 'nginx' && nginxBin) {
        const port = await freePort();
        const prefix = join(setup.dir, `backend-${name}`);
        mkdirSync(prefix, { recursive: true });
        const cfg = join(prefix, 'nginx.conf');
        writeFileSync(cfg, nginxBackendConfig(prefix, port, name));
        await setup.peers.spawnOnPort(setup.backendCpu, nginxBin, ['-p', prefix, '-c', cfg], port);
        ports.push(port);
      } else if (k === 'iolab') {
        const proc = await setup.peers.spawn(setup.backendCpu, process.execPath, [
          setup.cliPath,
          'serve',
          'loop',
          '--protocol',
          'http',
          '--port',
          '0',
        ]);
        ports.push(proc.port);
      } else {
        const proc = await setup.peers.spawn(setup.backendCpu, process.execPath, [
          '-e',
          BACKEND_SCRIPT,
          name,
        ]);
        ports.push(proc.port);
      }
    }
  };
  try {
    await start(kind);
  } catch (err) {
    // Plain node:http backends measure the same thing when `iolab serve` does not start.
    if (setup.signal.aborted || kind !== 'iolab') throw err;
    setup.skipped.push({
      target: 'iolab serve backends',
      reason: `did not start (${(err as Error).message.split('\n')[0]}); using node:http`,
    });
    ports.length = 0;
    kind = 'node';
    await start('node');
  }
  return { kind, ports };
}

/** `iolab balance` round-robin over `backends`, with extra node flags (e.g. `--cpu-prof`). */
export async function startIolab(
  setup: TargetSetup,
  backends: readonly string[],
  extraNodeArgs: readonly string[] = [],
): Promise<RunningTarget> {
  const proc = await setup.peers.spawn(setup.proxyCpu, process.execPath, [
    ...extraNodeArgs,
    setup.cliPath,
    'balance',
    '--listen',
    '127.0.0.1:0',
    ...backends.flatMap((b) => ['--backend', b]),
    '--policy',
    'round-robin',
    '--log-level',
    'warn',
  ]);
  return { name: 'iolab', port: proc.port, proc };
}

async function startOnPort(
  setup: TargetSetup,
  name: TargetName,
  binary: string,
  configFile: string,
  config: (port: number) => string,
  args: (configFile: string) => readonly string[],
): Promise<RunningTarget | undefined> {
  const port = await freePort();
  writeFileSync(configFile, config(port));
  try {
    const proc = await setup.peers.spawnOnPort(setup.proxyCpu, binary, args(configFile), port);
    return { name, port, proc };
  } catch (err) {
    if (setup.signal.aborted) throw err;
    setup.skipped.push({ target: name, reason: `did not start: ${(err as Error).message.slice(0, 300)}` });
    return undefined;
  }
}

/** Starts every wanted target in a fixed order; missing peers go to `setup.skipped`. */
export async function startTargets(
  setup: TargetSetup,
  wanted: ReadonlySet<TargetName>,
  backendPorts: readonly number[],
): Promise<RunningTarget[]> {
  const backends = backendPorts.map((p) => `127.0.0.1:${p}`);
  const targets: RunningTarget[] = [];
  if (wanted.has('direct')) targets.push({ name: 'direct', port: backendPorts[0] as number });
  if (wanted.has('iolab')) targets.push(await startIolab(setup, backends));
  if (wanted.has('haproxy')) {
    const haproxy = findTool('haproxy');
    if (!haproxy) setup.skipped.push({ target: 'haproxy', reason: 'haproxy is not installed' });
    else {
      const target = await startOnPort(
        setup,
        'haproxy',
        haproxy,
        join(setup.dir, 'haproxy.cfg'),
        (port) => haproxyConfig(`127.0.0.1:${port}`, loopback(backendPorts)),
        (cfg) => ['-db', '-f', cfg],
      );
      if (target) targets.push(target);
    }
  }
  if (wanted.has('nginx')) {
    const nginx = findTool('nginx');
    if (!nginx) setup.skipped.push({ target: 'nginx', reason: 'nginx is not installed' });
    else if (!nginxHasStream(nginx)) {
      setup.skipped.push({
        target: 'nginx',
        reason: 'nginx has no stream module (apt install libnginx-mod-stream)',
      });
    } else {
      const target = await startOnPort(
        setup,
        'nginx',
        nginx,
        join(setup.dir, 'nginx.conf'),
        (port) => nginxConfig(setup.dir, `127.0.0.1:${port}`, loopback(backendPorts)),
        (cfg) => ['-p', setup.dir, '-c', cfg],
      );
      if (target) targets.push(target);
    }
  }
  if (wanted.has('naive')) {
    const proc = await setup.peers.spawn(setup.proxyCpu, process.execPath, [
      '-e',
      NAIVE_PROXY_SCRIPT,
      ...backends,
    ]);
    targets.push({ name: 'naive', port: proc.port, proc });
  }
  return targets;
}

function loopback(ports: readonly number[]): string[] {
  return ports.map((port) => `127.0.0.1:${port}`);
}
