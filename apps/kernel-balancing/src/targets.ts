/**
 * The five ways to reach the real servers, each started inside director 1's namespace from one list of
 * backends (the same balancer config for iolab's two engines):
 *
 *   direct          client → rs1's second address (no director; replies via the router)
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
import { findTool, LAB_ADDRESSES, type Lab } from '@iolab/netlab';

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
/** The service port on the VIP (the kernel director's, and the HA pair's). */
export const SERVICE_PORT = 80;
/**
 * Each target listens on its own port of the VIP, so all of them stay up together and are measured in
 * interleaved windows (drift on a shared machine then hits every target alike). The kernel director keeps
 * the service port 80.
 */
export const TARGET_PORTS: Readonly<Record<Exclude<TargetName, 'direct'>, number>> = {
  'nft NAT': SERVICE_PORT,
  iolab: 81,
  'iolab+PROXY v2': 82,
  haproxy: 83,
  nginx: 84,
};
/**
 * rs1's second address, the one "direct" uses. A policy rule sends replies from it through the router, while
 * replies from rs1's own address keep going through the NAT gateway: with one default route, direct and the
 * kernel NAT director could not both be up (a NAT reply must cross the director, a direct one must not).
 */
export const DIRECT_ADDRESS = '203.0.113.31';
/** The routing table of that rule (any number the lab does not use). */
const DIRECT_ROUTE_TABLE = '100';
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

/**
 * Real servers route through the NAT gateway (the director), except replies from rs1's DIRECT_ADDRESS, which
 * go through the router: "direct" and every director can then be up at once. The namespace takes the rule
 * and the address with it when the lab is destroyed.
 */
export function routeForAllTargets(lab: Lab): void {
  lab.routeRealServersVia('gateway');
  const rs1 = lab.realServers[0]!;
  lab.exec(rs1.ns, 'ip', ['addr', 'replace', `${DIRECT_ADDRESS}/24`, 'dev', 'eth0']);
  lab.exec(rs1.ns, 'ip', ['rule', 'add', 'from', DIRECT_ADDRESS, 'lookup', DIRECT_ROUTE_TABLE]);
  lab.exec(rs1.ns, 'ip', [
    'route',
    'replace',
    'default',
    'via',
    LAB_ADDRESSES.routerBack,
    'onlink',
    'dev',
    'eth0',
    'table',
    DIRECT_ROUTE_TABLE,
  ]);
}

/** Starts one target in director 1 on its own port (call routeForAllTargets once first). */
export async function startTarget(name: TargetName, ctx: TargetContext): Promise<RunningTarget> {
  const { lab } = ctx;
  const port = name === 'direct' ? REAL_SERVER_PORT : TARGET_PORTS[name];
  const listen = `${lab.vip}:${port}`;
  const vipUrl = `http://${listen}/`;
  const backends = lab.realServers.map((r) => `${r.address}:${REAL_SERVER_PORT}`);
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
        url: `http://${DIRECT_ADDRESS}:${REAL_SERVER_PORT}/`,
        proc: undefined,
        kernel: false,
        commandLine: `(none: the client connects to rs1 at ${DIRECT_ADDRESS})`,
        stop: async () => {},
      };
    case 'iolab':
      return spawnIn(
        [
          node,
          ctx.cliPath,
          'balance',
          '--listen',
          listen,
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
          listen,
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
          listen,
          '--log-level',
          'warn',
          ...backends.flatMap((b) => ['--backend', b]),
        ],
        true,
      );
    case 'haproxy': {
      const cfg = join(ctx.dir, 'haproxy.cfg');
      writeFileSync(cfg, haproxyConfig(listen, backends));
      return spawnIn(['sh', '-c', ANNOUNCE_THEN_EXEC, 'sh', findTool('haproxy')!, '-db', '-f', cfg], false);
    }
    case 'nginx': {
      const cfg = join(ctx.dir, 'nginx.conf');
      writeFileSync(cfg, nginxConfig(ctx.dir, listen, backends));
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
