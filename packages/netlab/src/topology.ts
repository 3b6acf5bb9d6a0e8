/**
 * The lab: one client, directors and real servers, each a network namespace, on two bridges that live in a
 * namespace of their own (so nothing is added to the host's namespace: no link, no address, no route).
 *
 * ```
 *                 front bridge 198.51.100.0/24                 back bridge 203.0.113.0/24
 *  client .10 ──┤                              ├── dir1 ──┤ .2                    ├── rs1 .11
 *               │ VIP .100 (held by a director)│  .2      │                       ├── rs2 .12
 *               │                              ├── dir2 ──┤ .3                    ├── rs3 .13
 *               │        router .254  ═══ "sw" namespace ═══  router .254         │
 *                                                         gateway .1 (held by the active director)
 * ```
 *
 * - LVS-NAT: real servers route through 203.0.113.1, an address the active director holds, so replies pass
 *   the director and its conntrack undoes the DNAT.
 * - LVS-DR: real servers route through the router (.254) instead, so replies bypass the director.
 * - Addresses are RFC 5737 documentation ranges and exist only inside these namespaces; the namespaces
 *   have no link to the host, so no packet can leave them. (192.0.2.0/24 is left alone: some CI sandboxes
 *   give the host itself an address there, and a reader of `ip addr` should never have to wonder.)
 *
 * Every name carries the run's prefix (`iolab-<id>-…`), so parallel runs do not collide and a leftover is
 * traceable to its run (the state file records the owner pid).
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDead, readStat } from '@iolab/harness';
import { type CleanupHandle, type CleanupRegistry, labCleanup } from './cleanup-registry.js';
import { LabBadOptionError } from './errors.js';
import { assertLabAvailable } from './privileges.js';
import { requireTool, run, tryRun } from './system-command.js';

/** Every lab namespace starts with this; `iolab lab down` only ever touches names that do. */
export const LAB_NAMESPACE_PREFIX = 'iolab-';
/** Most real servers: the back subnet's host numbers .11–.19 are reserved for them. */
export const MAX_REAL_SERVERS = 9;

export const LAB_ADDRESSES = {
  frontSubnet: '198.51.100.0/24',
  backSubnet: '203.0.113.0/24',
  client: '198.51.100.10',
  vip: '198.51.100.100',
  gateway: '203.0.113.1',
  routerFront: '198.51.100.254',
  routerBack: '203.0.113.254',
} as const;

export interface LabOptions {
  /** Real servers (default 3). */
  readonly realServers?: number;
  /** Directors (default 2: the HA pair). */
  readonly directors?: number;
  /** Run id in names (default: from the pid and a random part). Lowercase letters and digits. */
  readonly id?: string;
  readonly registry?: CleanupRegistry;
}

export interface LabHost {
  /** Namespace name. */
  readonly ns: string;
  readonly role: 'client' | 'director' | 'real-server' | 'switch';
  /** Short name: client, dir1, rs2, sw. */
  readonly name: string;
}

export interface Director extends LabHost {
  readonly front: { readonly ifname: 'front'; readonly address: string; readonly mac: string };
  readonly back: { readonly ifname: 'back'; readonly address: string; readonly mac: string };
}

export interface RealServer extends LabHost {
  readonly address: string;
  readonly mac: string;
}

export interface Lab {
  readonly id: string;
  /** `iolab-<id>`: the prefix of every namespace of this lab. */
  readonly prefix: string;
  readonly client: LabHost & { readonly address: string };
  readonly directors: readonly Director[];
  readonly realServers: readonly RealServer[];
  readonly router: LabHost;
  readonly vip: string;
  readonly gateway: string;
  /** Every namespace, client first. */
  readonly namespaces: readonly string[];
  /** argv that runs `file args` inside a namespace (for spawn). */
  command(ns: string, file: string, args: readonly string[]): [string, string[]];
  /** Runs a command inside a namespace synchronously (with `input` on its stdin) and returns its stdout. */
  exec(ns: string, file: string, args: readonly string[], input?: string): string;
  /** Points every real server's default route at `via` (the NAT gateway or the router). */
  routeRealServersVia(via: 'gateway' | 'router'): void;
  /** Adds (or removes) an address on a director's interface, e.g. the VIP without keepalived. */
  setAddress(director: Director, ifname: 'front' | 'back', cidr: string, present: boolean): void;
  /** Removes everything this lab created. Idempotent. */
  destroy(): void;
  /** Leaves the lab up past this process (`iolab lab up --detach`): forgets the undo actions. */
  detach(): void;
}

/** Where `iolab lab status|down` learns which run owns which namespaces. */
export function labStateDir(): string {
  return join(tmpdir(), 'iolab-lab');
}

export interface LabStateFile {
  readonly id: string;
  readonly pid: number;
  readonly createdAt: string;
  readonly namespaces: readonly string[];
}

function newId(): string {
  const rand = Math.floor(Math.random() * 36 ** 3)
    .toString(36)
    .padStart(3, '0');
  return `${(process.pid % 36 ** 4).toString(36)}${rand}`;
}

function mac(group: number, n: number): string {
  // Locally administered unicast (02:…). Bridges are per lab, so equal MACs in two labs never meet.
  return `02:00:00:00:${group.toString(16).padStart(2, '0')}:${n.toString(16).padStart(2, '0')}`;
}

/** How long teardown waits for SIGKILLed processes to disappear (a parent may still have to reap them). */
const KILL_WAIT_MS = 2_000;

/** Alive and not a zombie. */
function running(pid: number): boolean {
  const stat = readStat(pid);
  return stat !== undefined && !isDead(stat);
}

/** Removes a namespace after killing whatever still runs inside it (a daemon we lost track of). */
export function removeNamespace(ns: string): void {
  if (!ns.startsWith(LAB_NAMESPACE_PREFIX)) throw new LabBadOptionError(`refusing to remove namespace ${ns}`);
  const pids = (tryRun('ip', ['netns', 'pids', ns]) ?? '').split(/\s+/).filter(Boolean).map(Number);
  for (const pid of pids) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone.
    }
  }
  // Wait (bounded, synchronously: this also runs in an 'exit' handler) until they are really gone, so a
  // `pgrep` right after teardown finds nothing.
  const deadline = Date.now() + KILL_WAIT_MS;
  const pause = new Int32Array(new SharedArrayBuffer(4));
  while (pids.some(running) && Date.now() < deadline) Atomics.wait(pause, 0, 0, 20);
  // Deleting the namespace deletes its links (veth peers go with them), addresses, routes and nft tables.
  tryRun('ip', ['netns', 'del', ns]);
}

/** Builds the lab. On any failure everything already made is removed before the error is thrown. */
export function createLab(options: LabOptions = {}): Lab {
  assertLabAvailable(['ip', 'nft', 'sysctl']);
  const nReal = options.realServers ?? 3;
  const nDir = options.directors ?? 2;
  if (!Number.isInteger(nReal) || nReal < 1 || nReal > MAX_REAL_SERVERS) {
    throw new LabBadOptionError(`realServers must be 1..${MAX_REAL_SERVERS}, got ${nReal}`);
  }
  if (!Number.isInteger(nDir) || nDir < 1 || nDir > 2) {
    throw new LabBadOptionError(`directors must be 1 or 2, got ${nDir}`);
  }
  const id = options.id ?? newId();
  if (!/^[a-z0-9]{1,12}$/.test(id)) throw new LabBadOptionError(`lab id must be [a-z0-9]{1,12}, got ${id}`);
  const registry = options.registry ?? labCleanup;
  const prefix = `${LAB_NAMESPACE_PREFIX}${id}`;
  const made: string[] = [];
  const stateFile = join(labStateDir(), `${id}.json`);
  const handles: CleanupHandle[] = [];

  const ns = (name: string): string => `${prefix}-${name}`;
  const ip = (n: string, ...args: string[]): string => run('ip', ['-n', n, ...args]);
  const sysctl = (n: string, ...settings: string[]): void => {
    run('ip', ['netns', 'exec', n, 'sysctl', '-q', '-w', ...settings]);
  };
  const addNs = (name: string): string => {
    const n = ns(name);
    run('ip', ['netns', 'add', n]);
    made.push(n);
    handles.push(registry.add(`namespace ${n}`, () => removeNamespace(n)));
    ip(n, 'link', 'set', 'lo', 'up');
    return n;
  };
  /** A veth pair with one end on a bridge in the switch namespace and the other in `host`. */
  const plug = (sw: string, bridge: string, port: string, host: string, ifname: string, hw: string): void => {
    ip(sw, 'link', 'add', port, 'type', 'veth', 'peer', 'name', ifname, 'netns', host);
    ip(sw, 'link', 'set', port, 'master', bridge, 'up');
    ip(host, 'link', 'set', ifname, 'address', hw, 'up');
  };

  const destroy = (): void => {
    for (const h of handles.reverse()) h.run();
    handles.length = 0;
    rmSync(stateFile, { force: true });
  };

  try {
    const sw = addNs('sw');
    mkdirSync(labStateDir(), { recursive: true });
    const writeState = (): void => {
      const state: LabStateFile = {
        id,
        pid: process.pid,
        createdAt: new Date().toISOString(),
        namespaces: made,
      };
      writeFileSync(stateFile, `${JSON.stringify(state)}\n`);
    };
    writeState();
    handles.push(registry.add(`state file ${stateFile}`, () => rmSync(stateFile, { force: true })));
    for (const br of ['brf', 'brb']) {
      ip(sw, 'link', 'add', br, 'type', 'bridge');
      ip(sw, 'link', 'set', br, 'up');
    }
    ip(sw, 'addr', 'add', `${LAB_ADDRESSES.routerFront}/24`, 'dev', 'brf');
    ip(sw, 'addr', 'add', `${LAB_ADDRESSES.routerBack}/24`, 'dev', 'brb');
    // The switch namespace also routes (for DR replies); reverse-path filtering would drop a reply whose
    // source (the VIP) belongs to the front subnet but arrives from the back one.
    sysctl(sw, 'net.ipv4.ip_forward=1', 'net.ipv4.conf.all.rp_filter=0', 'net.ipv4.conf.default.rp_filter=0');

    const clientNs = addNs('client');
    plug(sw, 'brf', 'client', clientNs, 'eth0', mac(1, 10));
    ip(clientNs, 'addr', 'add', `${LAB_ADDRESSES.client}/24`, 'dev', 'eth0');
    // The client reaches real servers directly (the "direct" baseline) through the router.
    ip(clientNs, 'route', 'add', LAB_ADDRESSES.backSubnet, 'via', LAB_ADDRESSES.routerFront, 'dev', 'eth0');

    const directors: Director[] = [];
    for (let i = 1; i <= nDir; i++) {
      const d = addNs(`dir${i}`);
      plug(sw, 'brf', `d${i}f`, d, 'front', mac(1, 1 + i));
      plug(sw, 'brb', `d${i}b`, d, 'back', mac(2, 1 + i));
      const front = `198.51.100.${1 + i}`;
      const back = `203.0.113.${1 + i}`;
      ip(d, 'addr', 'add', `${front}/24`, 'dev', 'front');
      ip(d, 'addr', 'add', `${back}/24`, 'dev', 'back');
      // Forwarding for NAT; non-local bind so a proxy may listen on the VIP before VRRP gives it the VIP.
      sysctl(
        d,
        'net.ipv4.ip_forward=1',
        'net.ipv4.ip_nonlocal_bind=1',
        'net.ipv4.conf.all.rp_filter=0',
        'net.ipv4.conf.default.rp_filter=0',
      );
      directors.push({
        ns: d,
        role: 'director',
        name: `dir${i}`,
        front: { ifname: 'front', address: front, mac: mac(1, 1 + i) },
        back: { ifname: 'back', address: back, mac: mac(2, 1 + i) },
      });
    }

    const realServers: RealServer[] = [];
    for (let i = 1; i <= nReal; i++) {
      const r = addNs(`rs${i}`);
      plug(sw, 'brb', `rs${i}`, r, 'eth0', mac(2, 10 + i));
      const address = `203.0.113.${10 + i}`;
      ip(r, 'addr', 'add', `${address}/24`, 'dev', 'eth0');
      // The VIP on loopback for DR; arp_ignore/arp_announce keep the real server from answering ARP for it
      // (the director must be the only host that owns the VIP on the wire).
      sysctl(
        r,
        'net.ipv4.conf.all.arp_ignore=1',
        'net.ipv4.conf.all.arp_announce=2',
        'net.ipv4.conf.eth0.arp_ignore=1',
        'net.ipv4.conf.eth0.arp_announce=2',
      );
      ip(r, 'addr', 'add', `${LAB_ADDRESSES.vip}/32`, 'dev', 'lo');
      ip(r, 'route', 'add', 'default', 'via', LAB_ADDRESSES.gateway, 'onlink', 'dev', 'eth0');
      realServers.push({ ns: r, role: 'real-server', name: `rs${i}`, address, mac: mac(2, 10 + i) });
    }
    writeState();

    const lab: Lab = {
      id,
      prefix,
      client: { ns: clientNs, role: 'client', name: 'client', address: LAB_ADDRESSES.client },
      directors,
      realServers,
      router: { ns: sw, role: 'switch', name: 'sw' },
      vip: LAB_ADDRESSES.vip,
      gateway: LAB_ADDRESSES.gateway,
      namespaces: [clientNs, ...directors.map((d) => d.ns), ...realServers.map((r) => r.ns), sw],
      command: (n, file, args) => [requireTool('ip'), ['netns', 'exec', n, file, ...args]],
      exec: (n, file, args, input) => run('ip', ['netns', 'exec', n, file, ...args], input),
      routeRealServersVia: (via) => {
        const hop = via === 'gateway' ? LAB_ADDRESSES.gateway : LAB_ADDRESSES.routerBack;
        for (const r of realServers)
          ip(r.ns, 'route', 'replace', 'default', 'via', hop, 'onlink', 'dev', 'eth0');
      },
      setAddress: (d, ifname, cidr, present) => {
        if (present) ip(d.ns, 'addr', 'replace', cidr, 'dev', ifname);
        else tryRun('ip', ['-n', d.ns, 'addr', 'del', cidr, 'dev', ifname]);
      },
      destroy,
      detach: () => {
        for (const h of handles) h.dismiss();
        handles.length = 0;
      },
    };
    return lab;
  } catch (error) {
    destroy();
    throw error;
  }
}
