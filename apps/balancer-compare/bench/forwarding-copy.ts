/**
 * Why the balancer copies with manual `data`/`drain` handlers: the three ways to copy, measured in one run.
 *
 *   npx tsx apps/balancer-compare/bench/forwarding-copy.ts [--seconds 3] [--rounds 3] [--profile DIR]
 *
 * Each proxy runs in its own child process (pinned to the server core when the machine has two), in front of an
 * echo backend; the client (this process) measures
 *   - ping-pong: 64 connections, each sending 100 bytes and waiting for the echo, round trips per second;
 *   - bulk: one connection streaming 256 MiB through and back, MiB/s.
 * Variants alternate round by round; medians and min–max spread are printed, plus ratios to `pipe`.
 */
import { readdirSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { type ManagedProcess, median, planCores, renderTable, spawnManaged } from '@iolab/harness';
import { summariseCpuProfile } from '../src/cpu-profile.js';

const { values } = parseArgs({
  options: { seconds: { type: 'string' }, rounds: { type: 'string' }, profile: { type: 'string' } },
});
/** `--profile DIR`: run the balancer child with `--cpu-prof` into DIR and print its top self-time functions. */
const PROFILE_DIR = values.profile;
const SECONDS = Number(values.seconds ?? 3);
const ROUNDS = Number(values.rounds ?? 3);
const VARIANTS = ['balancer', 'pipe', 'pipeline'] as const;
const CHILD = fileURLToPath(new URL('./forwarding-copy-proxy.ts', import.meta.url));
const PROXY_CPU = planCores().serverCpu;

const backend = createServer({ allowHalfOpen: true }, (s) => {
  s.setNoDelay(true);
  s.on('error', () => {});
  s.pipe(s);
});
await new Promise<void>((r) => backend.listen(0, '127.0.0.1', () => r()));
const backendPort = (backend.address() as { port: number }).port;

/** A harness-managed proxy child: stopped on return, on error, and by the registry on exit and Ctrl-C. */
async function startProxy(variant: string): Promise<ManagedProcess> {
  const prof =
    PROFILE_DIR !== undefined && variant === 'balancer'
      ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`]
      : [];
  return spawnManaged({
    command: process.execPath,
    args: [...prof, '--import', 'tsx', CHILD, variant, String(backendPort)],
    ...(PROXY_CPU === undefined ? {} : { cpu: PROXY_CPU }),
  });
}

function open(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const s = connect({ port, host: '127.0.0.1', noDelay: true }, () => resolve(s));
    s.once('error', reject);
  });
}

async function pingPong(port: number): Promise<number> {
  const msg = Buffer.alloc(100, 1);
  const socks = await Promise.all(Array.from({ length: 64 }, () => open(port)));
  let trips = 0;
  const end = performance.now() + SECONDS * 1000;
  await Promise.all(
    socks.map(
      (s) =>
        new Promise<void>((resolve) => {
          let got = 0;
          s.on('data', (d: Buffer) => {
            got += d.length;
            if (got < msg.length) return;
            got -= msg.length;
            trips++;
            if (performance.now() < end) s.write(msg);
            else resolve();
          });
          s.write(msg);
        }),
    ),
  );
  for (const s of socks) s.destroy();
  return trips / SECONDS;
}

async function bulk(port: number): Promise<number> {
  const total = 256 * 1024 * 1024;
  const chunk = Buffer.alloc(64 * 1024, 2);
  const s = await open(port);
  const t0 = performance.now();
  let received = 0;
  const done = new Promise<void>((resolve) => {
    s.on('data', (d: Buffer) => {
      received += d.length;
      if (received >= total) resolve();
    });
  });
  let sent = 0;
  const pump = () => {
    while (sent < total) {
      sent += chunk.length;
      if (!s.write(chunk)) {
        s.once('drain', pump);
        return;
      }
    }
  };
  pump();
  await done;
  s.destroy();
  return total / (1024 * 1024) / ((performance.now() - t0) / 1000);
}

const results: Record<string, { rtt: number[]; bulk: number[] }> = {};
for (const v of VARIANTS) results[v] = { rtt: [], bulk: [] };
for (let round = 0; round < ROUNDS; round++) {
  for (const v of VARIANTS) {
    const proxy = await startProxy(v);
    try {
      results[v]!.rtt.push(await pingPong(proxy.port));
      results[v]!.bulk.push(await bulk(proxy.port));
    } finally {
      await proxy.stop();
    }
    process.stderr.write(`round ${round + 1}/${ROUNDS} ${v} done\n`);
  }
}
backend.close();

const mid = (xs: readonly number[]): number => median(xs) ?? Number.NaN;
const fmt = (xs: number[]) =>
  `${mid(xs).toFixed(0)} (${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)})`;
const base = results.pipe!;
console.log(
  renderTable(
    [
      'copy loop',
      { title: 'ping-pong round trips/s, median (min–max)', align: 'right' },
      { title: '× pipe', align: 'right' },
      { title: 'bulk MiB/s, median (min–max)', align: 'right' },
      { title: '× pipe', align: 'right' },
    ],
    VARIANTS.map((v) => {
      const r = results[v]!;
      return [
        v,
        fmt(r.rtt),
        (mid(r.rtt) / mid(base.rtt)).toFixed(2),
        fmt(r.bulk),
        (mid(r.bulk) / mid(base.bulk)).toFixed(2),
      ];
    }),
  ),
);
if (PROFILE_DIR !== undefined) {
  for (const file of readdirSync(PROFILE_DIR).filter((f) => f.endsWith('.cpuprofile'))) {
    const summary = summariseCpuProfile(join(PROFILE_DIR, file));
    console.log(`\nbalancer CPU profile ${file}, self time (% of ${summary.totalMs.toFixed(0)} ms busy):`);
    for (const t of summary.top) console.log(`  ${t.selfPercent.toFixed(1).padStart(5)}%  ${t.name}`);
  }
}
console.log(
  `\n${ROUNDS} rounds × ${SECONDS} s ping-pong + 256 MiB bulk; proxies ${PROXY_CPU === undefined ? 'not pinned (one core or no taskset)' : `pinned to CPU ${PROXY_CPU}`}.`,
);
