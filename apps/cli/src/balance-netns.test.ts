/**
 * End to end with backends as separate hosts: each backend runs in a network namespace this test creates,
 * reached over a veth pair with a /30 of its own; `iolab balance` runs in the root namespace.
 *
 *   client ─► iolab balance (root ns, 127.0.0.1) ─┬─ vethA (10.213.N.1/30) ══ (10.213.N.2) ns A: backend
 *                                                 └─ vethB (10.213.N.5/30) ══ (10.213.N.6) ns B: backend
 *
 * Needs root and iproute2; skipped with a message otherwise. Every namespace and link it made is removed in
 * afterAll, also when a test fails.
 */

import { execFileSync, spawn } from 'node:child_process';
import { until } from '@iolab/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cleanup,
  countBy,
  registerCleanup,
  sleep,
  startListening,
  whoServes,
} from './test-balance-process.js';

function which(cmd: string): string | undefined {
  for (const dir of ['/usr/sbin', '/sbin', '/usr/bin', '/bin']) {
    try {
      execFileSync('test', ['-x', `${dir}/${cmd}`]);
      return `${dir}/${cmd}`;
    } catch {
      // Not here.
    }
  }
  return undefined;
}

const IP = which('ip');
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
const skipReason = !isRoot
  ? 'needs root to create network namespaces'
  : !IP
    ? 'needs iproute2 (`ip`)'
    : undefined;
if (skipReason) {
  // Shown in the test output so a skipped end-to-end run is never mistaken for a passing one.
  console.warn(`balance-netns: SKIPPED — ${skipReason}`);
}

// Names unique to this run (interface names are capped at 15 characters).
const tag = (process.pid % 100000).toString(36);
const subnet = 10 + (process.pid % 200); // third octet, 10..209
const hosts = [
  {
    ns: `iolab-${tag}-a`,
    hostIf: `iol${tag}a0`,
    nsIf: `iol${tag}a1`,
    hostIp: `10.213.${subnet}.1`,
    nsIp: `10.213.${subnet}.2`,
  },
  {
    ns: `iolab-${tag}-b`,
    hostIf: `iol${tag}b0`,
    nsIf: `iol${tag}b1`,
    hostIp: `10.213.${subnet}.5`,
    nsIp: `10.213.${subnet}.6`,
  },
];

function ip(...args: string[]): void {
  execFileSync(IP!, args, { stdio: 'pipe', timeout: 10_000 });
}

const BACKEND = `
const net = require('node:net');
const [id, host] = process.argv.slice(1);
const server = net.createServer((s) => { s.on('error', () => {}); s.write(id + '\\n'); s.pipe(s); });
server.listen(0, host, () => process.stdout.write('listening on ' + host + ':' + server.address().port + '\\n'));
`;

/** Starts a backend inside a namespace; resolves with its port. */
function startNsBackend(ns: string, id: string, host: string): Promise<number> {
  const child = spawn(IP!, ['netns', 'exec', ns, process.execPath, '-e', BACKEND, id, host], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  registerCleanup(
    () =>
      new Promise<void>((done) => {
        if (child.exitCode !== null || child.signalCode !== null) return done();
        child.once('exit', () => done());
        child.kill('SIGKILL');
      }),
  );
  return new Promise((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /listening on \S+:(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.once('exit', (code) => reject(new Error(`backend in ${ns} exited ${code}`)));
    setTimeout(() => reject(new Error(`backend in ${ns} did not start`)), 10_000).unref();
  });
}

describe.skipIf(skipReason !== undefined)(
  'iolab balance across network namespaces',
  { timeout: 40_000 },
  () => {
    const made: { ns: string[]; links: string[] } = { ns: [], links: [] };

    /** Root without CAP_SYS_ADMIN/CAP_NET_ADMIN (some containers): a skip, not a failure. */
    let notPermitted: string | undefined;
    beforeAll(() => {
      try {
        setUp();
      } catch (err) {
        const text = `${(err as Error).message} ${String((err as { stderr?: unknown }).stderr ?? '')}`;
        if (!/Operation not permitted|Permission denied/i.test(text)) throw err;
        notPermitted = text.trim().split('\n')[0];
      }
    });
    function setUp(): void {
      for (const h of hosts) {
        ip('netns', 'add', h.ns);
        made.ns.push(h.ns);
        ip('link', 'add', h.hostIf, 'type', 'veth', 'peer', 'name', h.nsIf);
        made.links.push(h.hostIf);
        ip('link', 'set', h.nsIf, 'netns', h.ns);
        ip('addr', 'add', `${h.hostIp}/30`, 'dev', h.hostIf);
        ip('link', 'set', h.hostIf, 'up');
        ip('netns', 'exec', h.ns, 'ip', 'addr', 'add', `${h.nsIp}/30`, 'dev', h.nsIf);
        ip('netns', 'exec', h.ns, 'ip', 'link', 'set', h.nsIf, 'up');
        ip('netns', 'exec', h.ns, 'ip', 'link', 'set', 'lo', 'up');
      }
    }

    afterAll(async () => {
      await cleanup();
      // Deleting a namespace deletes the veth end inside it, and with it the pair; delete links first anyway
      // in case a namespace was never made.
      for (const link of made.links) {
        try {
          ip('link', 'del', link);
        } catch {
          // Already gone with its namespace.
        }
      }
      for (const ns of made.ns) {
        try {
          ip('netns', 'del', ns);
        } catch {
          // Already gone.
        }
      }
    });

    it('balances over two hosts and fails over when one host drops off the network', async (ctx) => {
      if (notPermitted) {
        console.warn(`balance-netns: SKIPPED — cannot create namespaces here: ${notPermitted}`);
        ctx.skip();
      }
      const [ha, hb] = hosts as [(typeof hosts)[0], (typeof hosts)[0]];
      const portA = await startNsBackend(ha.ns, 'host-a', ha.nsIp);
      const portB = await startNsBackend(hb.ns, 'host-b', hb.nsIp);
      const { proc, port } = await startListening([
        '--listen',
        '127.0.0.1:0',
        '--backend',
        `${ha.nsIp}:${portA},id=a`,
        '--backend',
        `${hb.nsIp}:${portB},id=b`,
        '--health-interval',
        '200',
        '--health-timeout',
        '150',
        '--rise',
        '2',
        '--fall',
        '2',
        '--connect-timeout',
        '300',
      ]);
      expect(countBy(await Promise.all(Array.from({ length: 6 }, () => whoServes(port))))).toEqual({
        'host-a': 3,
        'host-b': 3,
      });

      // Host A leaves the network: its link goes down, packets to it go nowhere (timeouts, not refusals).
      ip('link', 'set', ha.hostIf, 'down');
      await until(
        () => proc.logs().some((l) => l.event === 'backend-state' && l.backend === 'a' && l.to === 'down'),
        'host a marked down',
      );
      // Every new connection reaches B, without a client-visible error.
      expect(countBy(await Promise.all(Array.from({ length: 6 }, () => whoServes(port))))).toEqual({
        'host-b': 6,
      });

      // Host A comes back: after `rise` good checks it serves again.
      ip('link', 'set', ha.hostIf, 'up');
      await until(
        () => proc.logs().some((l) => l.event === 'backend-state' && l.backend === 'a' && l.to === 'up'),
        'host a back up',
      );
      await sleep(50);
      const seen = countBy(await Promise.all(Array.from({ length: 6 }, () => whoServes(port))));
      expect(seen['host-a']).toBeGreaterThan(0);
    });
  },
);
