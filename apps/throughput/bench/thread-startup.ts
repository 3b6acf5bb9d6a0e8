/**
 * Thread start-up against its floor, on each Node in the same run: the running Node, and a Node that can
 * transfer sockets (owned mode) where one is found or installed (`findTransferCapableNode`; IOLAB_NODE
 * or --node picks it).
 *
 *   floor       new Worker(empty ES module) → its first message, in a process of that Node kept for it;
 *               the target's floor, as issue 13 measured it
 *   floor (CJS) the same with an empty CommonJS module: bio's thread bundle is CommonJS (it skips the ES
 *               module loader), so this stricter floor is printed beside it
 *   bio         connect → first byte of the /plaintext answer on a fresh connection, on
 *               `serve bio --thread-keep-alive 0`: every connection starts a new thread
 *   bio reused  the same on `serve bio` (default keep-alive): the connection takes the idle thread the
 *               previous one left, as a client that reconnects per measurement window does
 *   pool        the same on `pool --mode connection` (threads are started before listening), and the
 *               pool's start-up: spawn → "listening" of `serve pool` minus that of `serve loop`
 *
 * The four are measured in interleaved rounds (the order rotates each round, every server already up
 * and idle), so drift from other load on a shared machine hits them alike; figures are medians over
 * rounds. Target (issue 13): bio's first answer ≤ 1.5 × the floor on the same Node.
 *
 * Usage: npx tsx apps/throughput/bench/thread-startup.ts [--rounds 40]
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { findTransferCapableNode } from '@iolab/server-core';
import { flag, IOLAB_BIN, median, type Started, startServer } from './bench-processes.js';

const rounds = flag('rounds', flag('samples', 40));
/** Rounds run first and not counted (see the warm-up below). */
const WARM_UP = 3;

// Run by the Node under test, kept up for the whole run: one empty worker per line on stdin (the line
// says which: esm or cjs), its ms on stdout — the same process shape as a server waiting for its next
// connection.
const FLOOR = `
import { Worker } from 'node:worker_threads';
import { createInterface } from 'node:readline';
const urls = { esm: new URL(process.argv[2]), cjs: new URL(process.argv[3]) };
for await (const kind of createInterface({ input: process.stdin })) {
  const t = performance.now();
  const w = new Worker(urls[kind]);
  await new Promise((resolve) => w.once('message', resolve));
  const ms = performance.now() - t;
  await w.terminate();
  process.stdout.write(ms + '\\n');
}
`;

type ModuleKind = 'esm' | 'cjs';

/** A process of `node` that starts one empty worker per call and says how long it took to answer. */
function floorRunner(
  node: string,
  dir: string,
): { sample(kind: ModuleKind): Promise<number>; child: ChildProcess } {
  const esm = join(dir, 'empty-worker.mjs');
  writeFileSync(esm, "import { parentPort } from 'node:worker_threads';\nparentPort.postMessage(0);\n");
  const cjs = join(dir, 'empty-worker.cjs');
  writeFileSync(cjs, "require('node:worker_threads').parentPort.postMessage(0);\n");
  const script = join(dir, 'floor.mjs'); // a file, not -e: workers inherit --input-type and refuse it
  writeFileSync(script, FLOOR);
  const child = spawn(node, [script, `file://${esm}`, `file://${cjs}`], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  return {
    child,
    sample: async (kind) => {
      child.stdin!.write(`${kind}\n`);
      const next = await lines.next();
      if (next.done) throw new Error('the floor process ended');
      return Number(next.value);
    },
  };
}

/** connect → first response byte on one fresh connection. */
async function firstAnswerMs(port: number): Promise<number> {
  const began = performance.now();
  const socket = createConnection({ host: '127.0.0.1', port });
  socket.on('error', () => {});
  await once(socket, 'connect');
  socket.write('GET /plaintext HTTP/1.1\r\nHost: t\r\n\r\n');
  await once(socket, 'data');
  const ms = performance.now() - began;
  socket.destroy();
  await once(socket, 'close');
  return ms;
}

/** Lets the server see the close (a reused bio thread must be idle again) before the next figure. */
const settle = (): Promise<void> => new Promise((resolve) => setTimeout(resolve, 30));

const nodes: { path: string; label: string; mode: string }[] = [
  { path: process.execPath, label: process.version, mode: 'relay' },
];
const found = await findTransferCapableNode();
if ('path' in found) {
  if (found.path === process.execPath) nodes[0]!.mode = 'owned';
  else nodes.push({ path: found.path, label: found.version, mode: 'owned' });
}
if ('reason' in found)
  process.stdout.write(`(no transfer-capable Node: ${found.reason}; owned mode not measured)\n`);

const fmt = (ms: number): string => `${ms.toFixed(1).padStart(6)} ms`;
const dir = mkdtempSync(join(tmpdir(), 'iolab-startup-'));
try {
  process.stdout.write(
    `thread start-up: medians over ${rounds} interleaved rounds; load average before: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}\n`,
  );
  for (const node of nodes) {
    const started: Started[] = [];
    const floor = floorRunner(node.path, dir);
    try {
      const serve = async (args: string[], what: string): Promise<Started> => {
        const s = await startServer([node.path, IOLAB_BIN, 'serve', ...args, '--port', '0'], what);
        started.push(s);
        return s;
      };
      const bio = await serve(['bio', '--thread-keep-alive', '0'], 'bio');
      const bioReused = await serve(['bio'], 'bio (reused)');
      const loop = await serve(['loop'], 'loop');
      loop.stop();
      const pool = await serve(['pool', '--threads', '4'], 'pool');
      // Warm-up, not counted: each process's first few threads pay for loading worker_threads and for
      // the main thread's own first accept; bio's first thread also fills V8's compile cache for the
      // thread bundle (see server-bio); and the reused figure needs an idle thread to reuse.
      for (let i = 0; i < WARM_UP; i++) {
        await floor.sample('esm');
        await floor.sample('cjs');
        for (const port of [bio.port, bioReused.port, pool.port]) {
          await firstAnswerMs(port);
          await settle();
        }
      }
      const figures = {
        floor: [] as number[],
        floorCjs: [] as number[],
        bio: [] as number[],
        bioReused: [] as number[],
        pool: [] as number[],
      };
      const steps: [keyof typeof figures, () => Promise<number>][] = [
        ['floor', () => floor.sample('esm')],
        ['floorCjs', () => floor.sample('cjs')],
        ['bio', () => firstAnswerMs(bio.port)],
        ['bioReused', () => firstAnswerMs(bioReused.port)],
        ['pool', () => firstAnswerMs(pool.port)],
      ];
      for (let round = 0; round < rounds; round++) {
        for (let k = 0; k < steps.length; k++) {
          const [name, measure] = steps[(round + k) % steps.length]!;
          figures[name].push(await measure());
          await settle();
        }
      }
      const m = {
        floor: median(figures.floor),
        floorCjs: median(figures.floorCjs),
        bio: median(figures.bio),
        bioReused: median(figures.bioReused),
        pool: median(figures.pool),
      };
      // The ratio per round as well: both figures of a round saw the same load.
      const perRound = median(figures.bio.map((b, i) => b / figures.floor[i]!));
      const ratio = m.bio / m.floor;
      process.stdout.write(
        `Node ${node.label} (socket mode ${node.mode}):\n` +
          `  empty-worker floor          ${fmt(m.floor)}  (ES module; the target's floor)\n` +
          `  empty-worker floor, CJS     ${fmt(m.floorCjs)}  (bio's thread bundle is CommonJS: bio = ${(m.bio / m.floorCjs).toFixed(2)} × this one)\n` +
          `  bio first answer, new thread ${fmt(m.bio)}  = ${ratio.toFixed(2)} × floor (per-round median ${perRound.toFixed(2)}; target ≤ 1.5: ${ratio <= 1.5 ? 'met' : 'NOT met'})\n` +
          `  bio first answer, reused     ${fmt(m.bioReused)}  = ${(m.bioReused / m.floor).toFixed(2)} × floor\n` +
          `  pool first answer           ${fmt(m.pool)}  = ${(m.pool / m.floor).toFixed(2)} × floor (threads already running)\n` +
          `  pool start-up (4 threads)   ${(pool.readyMs - loop.readyMs).toFixed(0).padStart(6)} ms over the loop's process start\n`,
      );
    } finally {
      for (const s of started) s.stop();
      floor.child.kill('SIGKILL');
    }
  }
  process.stdout.write(
    `load average after: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(' ')}\n`,
  );
} finally {
  rmSync(dir, { recursive: true, force: true });
}
