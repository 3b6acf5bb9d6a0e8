/**
 * Why the balancer copies with manual `data`/`drain` handlers: the three ways to copy, measured in one run.
 *
 *   npx tsx packages/balancer/bench/forwarding-copy.ts [--seconds 3] [--rounds 3]
 *
 * Each proxy runs in its own child process (pinned to CPU 1 with `taskset` when available), in front of an
 * echo backend; the client (this process) measures
 *   - ping-pong: 64 connections, each sending 100 bytes and waiting for the echo, round trips per second;
 *   - bulk: one connection streaming 256 MiB through and back, MiB/s.
 * Variants alternate round by round; medians and min–max spread are printed, plus ratios to `pipe`.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { connect, createServer, type Socket } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: { seconds: { type: 'string' }, rounds: { type: 'string' }, profile: { type: 'string' } },
});
/** `--profile DIR`: run the balancer child with `--cpu-prof` into DIR and print its top self-time functions. */
const PROFILE_DIR = values.profile;
const SECONDS = Number(values.seconds ?? 3);
const ROUNDS = Number(values.rounds ?? 3);
const VARIANTS = ['balancer', 'pipe', 'pipeline'] as const;
const CHILD = fileURLToPath(new URL('./forwarding-copy-proxy.ts', import.meta.url));

let hasTaskset = false;
try {
  execFileSync('taskset', ['-c', '1', 'true']);
  hasTaskset = true;
} catch {}

const children = new Set<ChildProcess>();
const stopAll = () => {
  for (const c of children) c.kill('SIGKILL');
};
process.once('SIGINT', () => {
  stopAll();
  process.exit(130);
});
process.once('exit', stopAll);

const backend = createServer({ allowHalfOpen: true }, (s) => {
  s.setNoDelay(true);
  s.on('error', () => {});
  s.pipe(s);
});
await new Promise<void>((r) => backend.listen(0, '127.0.0.1', () => r()));
const backendPort = (backend.address() as { port: number }).port;

async function startProxy(variant: string): Promise<{ port: number; child: ChildProcess }> {
  const prof =
    PROFILE_DIR !== undefined && variant === 'balancer'
      ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`]
      : [];
  const args = [...prof, '--import', 'tsx', CHILD, variant, String(backendPort)];
  const child = hasTaskset
    ? spawn('taskset', ['-c', '1', process.execPath, ...args], { stdio: ['ignore', 'pipe', 'inherit'] })
    : spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  children.add(child);
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`${variant} exited ${code}`)));
    child.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
  });
  return { port, child };
}

async function stopProxy(child: ChildProcess): Promise<void> {
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
  children.delete(child);
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
    const { port, child } = await startProxy(v);
    results[v]!.rtt.push(await pingPong(port));
    results[v]!.bulk.push(await bulk(port));
    await stopProxy(child);
    process.stderr.write(`round ${round + 1}/${ROUNDS} ${v} done\n`);
  }
}
backend.close();

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const fmt = (xs: number[]) =>
  `${median(xs).toFixed(0)} (${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)})`;
const base = results.pipe!;
console.log(
  `| copy loop | ping-pong round trips/s, median (min–max) | × pipe | bulk MiB/s, median (min–max) | × pipe |`,
);
console.log('|---|---|---|---|---|');
for (const v of VARIANTS) {
  const r = results[v]!;
  console.log(
    `| ${v} | ${fmt(r.rtt)} | ${(median(r.rtt) / median(base.rtt)).toFixed(2)} | ${fmt(r.bulk)} | ${(median(r.bulk) / median(base.bulk)).toFixed(2)} |`,
  );
}
if (PROFILE_DIR !== undefined) printProfileTop(PROFILE_DIR);
console.log(
  `\n${ROUNDS} rounds × ${SECONDS} s ping-pong + 256 MiB bulk; proxies ${hasTaskset ? 'pinned to CPU 1' : 'not pinned (no taskset)'}.`,
);

interface CpuProfile {
  nodes: { id: number; callFrame: { functionName: string; url: string; lineNumber: number } }[];
  samples: number[];
}

/** Self time per function across every .cpuprofile in `dir`, top 15. */
function printProfileTop(dir: string): void {
  const self = new Map<string, number>();
  let total = 0;
  for (const f of readdirSync(dir).filter((x) => x.endsWith('.cpuprofile'))) {
    const p = JSON.parse(readFileSync(join(dir, f), 'utf8')) as CpuProfile;
    const byId = new Map(p.nodes.map((n) => [n.id, n]));
    for (const id of p.samples) {
      const n = byId.get(id);
      if (n === undefined) continue;
      const cf = n.callFrame;
      const key = `${cf.functionName || '(anonymous)'} ${cf.url.split('/').slice(-2).join('/')}:${cf.lineNumber + 1}`;
      self.set(key, (self.get(key) ?? 0) + 1);
      total++;
    }
  }
  console.log(`\nbalancer CPU profile, self time (of ${total} samples):`);
  for (const [k, v] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 15)) {
    console.log(`  ${((v / total) * 100).toFixed(1).padStart(5)}%  ${k}`);
  }
}
