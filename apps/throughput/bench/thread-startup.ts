/**
 * Thread start-up against its floor, on each Node in the same run: the running Node, and a Node that can
 * transfer sockets (owned mode) where one is found or installed (`findTransferCapableNode`; IOLAB_NODE
 * or --node picks it).
 *
 *   floor       new Worker(empty ES module) → its first message, sequentially, median
 *   bio         connect → first byte of the /plaintext answer on a fresh connection (a new thread each)
 *   pool        the same on `pool --mode connection` (threads are started before listening), and the
 *               pool's start-up: spawn → "listening" of `serve pool` minus that of `serve loop`
 *
 * Target: bio's first answer ≤ 1.5 × the floor on the same Node.
 *
 * Usage (quiet machine): npx tsx apps/throughput/bench/thread-startup.ts [--samples 30]
 */

import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { findTransferCapableNode } from '@iolab/server-core';
import { flag, IOLAB_BIN, median, startServer } from './bench-processes.js';

const run = promisify(execFile);
const samples = flag('samples', 30);

// Run by the Node under test: `samples` empty workers one after the other, ms to each one's first message.
const FLOOR = `
import { Worker } from 'node:worker_threads';
const url = new URL(process.argv[2]);
const times = [];
for (let i = 0; i < ${samples}; i++) {
  const t = performance.now();
  const w = new Worker(url);
  await new Promise((resolve) => w.once('message', resolve));
  times.push(performance.now() - t);
  await w.terminate();
}
process.stdout.write(JSON.stringify(times));
`;

async function floorMs(node: string, dir: string): Promise<number> {
  const empty = join(dir, 'empty-worker.mjs');
  writeFileSync(empty, "import { parentPort } from 'node:worker_threads';\nparentPort.postMessage(0);\n");
  const script = join(dir, 'floor.mjs'); // a file, not -e: workers inherit --input-type and refuse it
  writeFileSync(script, FLOOR);
  const { stdout } = await run(node, [script, `file://${empty}`], { timeout: 300_000 });
  return median(JSON.parse(stdout) as number[]);
}

/** connect → first response byte, on `samples` fresh connections one after another. */
async function firstAnswerMs(port: number): Promise<number> {
  const times: number[] = [];
  for (let i = 0; i < samples; i++) {
    const began = performance.now();
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.on('error', () => {});
    await once(socket, 'connect');
    socket.write('GET /plaintext HTTP/1.1\r\nHost: t\r\n\r\n');
    await once(socket, 'data');
    times.push(performance.now() - began);
    socket.destroy();
    await once(socket, 'close');
  }
  return median(times);
}

const nodes: { path: string; label: string }[] = [{ path: process.execPath, label: process.version }];
const found = await findTransferCapableNode();
if ('path' in found && found.path !== process.execPath)
  nodes.push({ path: found.path, label: found.version });
if ('reason' in found)
  process.stdout.write(`(no transfer-capable Node: ${found.reason}; owned mode not measured)\n`);

const dir = mkdtempSync(join(tmpdir(), 'iolab-startup-'));
try {
  process.stdout.write(`thread start-up, medians of ${samples} sequential samples\n`);
  for (const node of nodes) {
    const floor = await floorMs(node.path, dir);
    const bio = await startServer(
      [node.path, IOLAB_BIN, 'serve', 'bio', '--port', '0', '--stats-interval', '60000'],
      'bio',
    );
    const bioMs = await firstAnswerMs(bio.port);
    bio.stop();
    const loop = await startServer([node.path, IOLAB_BIN, 'serve', 'loop', '--port', '0'], 'loop');
    loop.stop();
    const pool = await startServer(
      [node.path, IOLAB_BIN, 'serve', 'pool', '--threads', '4', '--port', '0'],
      'pool',
    );
    const poolMs = await firstAnswerMs(pool.port);
    pool.stop();
    const mode = 'path' in found && node.path === found.path ? 'owned' : 'relay';
    process.stdout.write(
      `Node ${node.label} (socket mode ${mode}):\n` +
        `  empty-worker floor        ${floor.toFixed(1)} ms\n` +
        `  bio first answer          ${bioMs.toFixed(1)} ms  = ${(bioMs / floor).toFixed(2)} × floor (target ≤ 1.5: ${bioMs / floor <= 1.5 ? 'met' : 'NOT met'})\n` +
        `  pool first answer         ${poolMs.toFixed(1)} ms  (threads already running)\n` +
        `  pool start-up (4 threads) ${(pool.readyMs - loop.readyMs).toFixed(0)} ms over the loop's process start\n`,
    );
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}
