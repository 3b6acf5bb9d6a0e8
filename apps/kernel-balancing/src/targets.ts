/**
 * The five ways to reach the real servers, each started inside director 1's namespace from one list of
 * backends (the same balancer config for iolab's two engines):
 *
 *   direct          client → rs1 (no director; replies via the router)
 *   iolab           `iolab balance` (user space: two TCP connections per client)
 *   iolab+PROXY v2  the same, sending a PROXY v2 header so the real server learns the client address
 *   haproxy         HAProxy `mode tcp`, nbthread 1
 *   nginx           nginx `stream`, one process
 *   nft NAT         `iolab balance --engine nft`: the kernel rewrites the destination (LVS-NAT);
 *                   real servers route replies through the director's gateway address
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { haproxyConfig, nginxConfig, nginxHasStream } from '@iolab/balancer-compare';
import { findExecutable, type ManagedProcess, spawnManaged } from '@iolab/harness';
import { findTool, type Lab } from '@iolab/netlab';

export type TargetName = 'direct' | 'iolab' | 'iolab+PROXY v2' | 'haproxy' | 'nginx' | 'nft NAT';
export const TARGET_NAMES: readonly TargetName[] = [
  'direct',
  'iolab',
  'iolab+PROXY v2',
  'haproxy',
  'nginx',
  'nft NAT',
];

/** Where real servers listen: plain HTTP and HTTP behind a PROXY header. */
export const REAL_SERVER_PORT = 8080;
export const REAL_SERVER_PROXY_PORT = 8081;
/** The service port on the VIP. */
export const SERVICE_PORT = 80;
/** HAProxy and nginx print nothing when ready: announce, then `exec` (same pid); readiness is probed. */
const ANNOUNCE_THEN_EXEC = 'echo "listening on exec:0"; exec "$@"';

export interface RunningTarget {
  readonly name: TargetName;
  readonly url: string;
  /** The forwarding process whose CPU counts as the director's; undefined for direct. */
  readonly proc: ManagedProcess | undefined;
  /** The kernel forwards: the director's cost is softirq time, not process time. */
  readonly kernel: boolean;
  readonly commandLine: string;
  stop(): Promise<void>;
}

export interface TargetContext {
  readonly lab: Lab;
  readonly cliPath: string;
  readonly dir: string;
  readonly signal: AbortSignal;
}

/** Why a target cannot run here, or undefined. */
export function targetUnavailable(name: TargetName): string | undefined {
  if (name === 'haproxy' && !findTool('haproxy')) return 'haproxy is not installed';
  if (name === 'nginx') {
    const nginx = findTool('nginx');
    if (!nginx) return 'nginx is not installed';
    if (!nginxHasStream(nginx)) return 'nginx has no stream module (libnginx-mod-stream)';
  }
  return undefined;
}

function inNs(ctx: TargetContext, argv: readonly string[]): { command: string; args: string[] } {
  const [command, args] = ctx.lab.command(ctx.lab.directors[0]!.ns, argv[0]!, argv.slice(1));
  return { command, args };
}

/** Starts one target in director 1 and points the real servers' default route where it needs it. */
export async function startTarget(name: TargetName, ctx: TargetContext): Promise<RunningTarget> {
  const { lab } = ctx;
  const vipUrl = `http://${lab.vip}:${SERVICE_PORT}/`;
  const backends = lab.realServers.map((r) => `${r.address}:${REAL_SERVER_PORT}`);
  lab.routeRealServersVia(name === 'direct' ? 'router' : 'gateway');
  const spawnIn = async (argv: string[], kernel: boolean, url = vipUrl): Promise<RunningTarget> => {
    const proc = await spawnManaged({ ...inNs(ctx, argv), signal: ctx.signal, readyTimeoutMs: 20_000 });
    return {
      name,
      url,
      proc,
      kernel,
      commandLine: proc.commandLine,
      stop: async () => void (await proc.stop('SIGTERM', 3_000)),
    };
  };
  const node = process.execPath;
  switch (name) {
    case 'direct':
      return {
        name,
        url: `http://${lab.realServers[0]!.address}:${REAL_SERVER_PORT}/`,
        proc: undefined,
        kernel: false,
        commandLine: '(none: the client connects to rs1)',
        stop: async () => {},
      };
    case 'iolab':
      return spawnIn(
        [
          node,
          ctx.cliPath,
          'balance',
          '--listen',
          `${lab.vip}:${SERVICE_PORT}`,
          '--log-level',
          'warn',
          ...backends.flatMap((b) => ['--backend', b]),
        ],
        false,
      );
    case 'iolab+PROXY v2':
      return spawnIn(
        [
          node,
          ctx.cliPath,
          'balance',
          '--listen',
          `${lab.vip}:${SERVICE_PORT}`,
          '--log-level',
          'warn',
          ...lab.realServers.flatMap((r) => ['--backend', `${r.address}:${REAL_SERVER_PROXY_PORT},proxy=v2`]),
        ],
        false,
      );
    case 'nft NAT':
      return spawnIn(
        [
          node,
          ctx.cliPath,
          'balance',
          '--engine',
          'nft',
          '--listen',
          `${lab.vip}:${SERVICE_PORT}`,
          '--log-level',
          'warn',
          ...backends.flatMap((b) => ['--backend', b]),
        ],
        true,
      );
    case 'haproxy': {
      const cfg = join(ctx.dir, 'haproxy.cfg');
      writeFileSync(cfg, haproxyConfig(`${lab.vip}:${SERVICE_PORT}`, backends));
      return spawnIn(['sh', '-c', ANNOUNCE_THEN_EXEC, 'sh', findTool('haproxy')!, '-db', '-f', cfg], false);
    }
    case 'nginx': {
      const cfg = join(ctx.dir, 'nginx.conf');
      writeFileSync(cfg, nginxConfig(ctx.dir, `${lab.vip}:${SERVICE_PORT}`, backends));
      return spawnIn(
        ['sh', '-c', ANNOUNCE_THEN_EXEC, 'sh', findTool('nginx')!, '-p', ctx.dir, '-c', cfg],
        false,
      );
    }
  }
}

/** `wrk` path, when installed. */
export function wrkPath(): string | undefined {
  return findExecutable('wrk') ?? findTool('wrk');
}
