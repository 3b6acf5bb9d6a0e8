/**
 * Measures every server model the way the closing note asks: requests/s on GET /plaintext at 1
 * and 100 connections (autocannon, keep-alive, no pipelining), RSS with 100 idle connections, and the
 * relay's cost (bio and pool vs loop at 1 connection). Servers run as real `iolab serve` processes; runs
 * are interleaved (model A, B, C, … then again) so machine noise spreads over all models. Prints medians,
 * min–max spread, and ratios against `loop` measured in the same run.
 *
 *   npx tsx apps/throughput/bench/models-plaintext.ts [--runs 3] [--duration 5]
 *
 * Needs `npm run build` first. Network: loopback only.
 */
import { once } from 'node:events';
import { createRequire } from 'node:module';
import { createConnection, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { type ManagedProcess, median, spawnManaged } from '@iolab/harness';
import autocannon from 'autocannon';

const { values } = parseArgs({
  options: { runs: { type: 'string', default: '3' }, duration: { type: 'string', default: '5' } },
});
const RUNS = Number(values.runs);
const DURATION = Number(values.duration);
// The CLI is a declared dependency of this app: resolved like any package file.
const BIN = createRequire(import.meta.url).resolve('@iolab/cli/bin/iolab.js');

const MODELS: { name: string; args: string[] }[] = [
  { name: 'bio', args: ['bio'] },
  // 100 threads so that 100 keep-alive connections are all served (with fewer, the rest wait in the queue).
  {
    name: 'pool connection (100 threads)',
    args: ['pool', '--mode', 'connection', '--threads', '100', '--queue', '1000'],
  },
  { name: 'pool request (4 threads)', args: ['pool', '--mode', 'request', '--threads', '4'] },
  { name: 'loop', args: ['loop'] },
  { name: 'loop --workers 2', args: ['loop', '--workers', '2'] },
  { name: 'node-http', args: ['node-http'] },
];

/** The median of a list that is never empty here; NaN keeps a missing figure visible in the table. */
const mid = (xs: readonly number[]): number => median(xs) ?? Number.NaN;

interface ServerStats {
  connections: number;
  threadsAlive: number;
  /** bio: threads waiting idle for the next connection (counted in threadsAlive too). */
  threadsIdle?: number;
  rssBytes: number;
}

interface Server {
  port: number;
  proc: ManagedProcess;
  stats: () => ServerStats | undefined;
}

/** The last JSON stats line `--stats-interval` printed on stderr (the harness keeps stderr's tail). */
function lastStatsLine(stderr: string): ServerStats | undefined {
  const line = stderr
    .split('\n')
    .reverse()
    .find((l) => l.startsWith('{') && l.endsWith('}'));
  return line === undefined ? undefined : (JSON.parse(line) as ServerStats);
}

/** A harness-managed `iolab serve`: stopped on return, on error, and by the registry on exit and Ctrl-C. */
async function serve(args: string[]): Promise<Server> {
  const proc = await spawnManaged({
    command: process.execPath,
    args: [BIN, 'serve', ...args, '--port', '0', '--stats-interval', '200'],
  });
  return { port: proc.port, proc, stats: () => lastStatsLine(proc.stderrTail()) };
}

async function stop(server: Server): Promise<void> {
  await server.proc.stop();
}

/**
 * Waits until the server has no connections and is back to its idle thread count. Without this, bio
 * keeps starting threads for connections autocannon has already dropped, and that CPU storm lands on
 * whichever model is measured next. bio's threads that wait idle for a next connection (its keep-alive)
 * cost no CPU and do not count as busy.
 */
async function quiesce(server: Server, idleThreads: number): Promise<void> {
  const deadline = Date.now() + 180_000;
  await sleep(300);
  while (Date.now() < deadline) {
    const st = server.stats();
    if (st && st.connections === 0 && st.threadsAlive - (st.threadsIdle ?? 0) <= idleThreads) return;
    await sleep(100);
  }
  console.error('  (server did not quiesce within 180 s)');
}

/**
 * Returns the steady rate: the median of autocannon's per-second counts over the second half of the run.
 * bio starts a thread per new connection, so at 100 connections the first seconds measure thread
 * start-up; the run average is printed to stderr alongside.
 */
async function cannon(
  server: Server,
  idleThreads: number,
  connections: number,
  duration: number,
): Promise<number> {
  const perSecond: number[] = [];
  // Without a callback autocannon returns its instance, which is both a promise and an emitter; the
  // typings only describe the promise.
  const instance = autocannon({
    url: `http://127.0.0.1:${server.port}/plaintext`,
    connections,
    duration,
  }) as Promise<autocannon.Result> & {
    on(event: 'tick', listener: (counter: { counter: number }) => void): void;
  };
  instance.on('tick', (counter: { counter: number }) => perSecond.push(counter.counter));
  const r = await instance;
  if (r.errors > 0 || r.non2xx > 0) console.error(`  (errors ${r.errors}, non-2xx ${r.non2xx})`);
  console.error(
    `  c=${connections}: run average ${Math.round(r.requests.average)} req/s, per second ${perSecond.join(' ')}`,
  );
  await quiesce(server, idleThreads);
  return mid(perSecond.slice(Math.floor(perSecond.length / 2)));
}

async function idleRss(server: Server, n: number): Promise<number> {
  const sockets: Socket[] = [];
  try {
    for (let i = 0; i < n; i++) {
      const s = createConnection({ port: server.port, host: '127.0.0.1' });
      s.on('error', () => {});
      sockets.push(s);
      // One request each so a thread model has really started its thread; then the connection idles.
      s.write('GET /plaintext HTTP/1.1\r\nHost: b\r\n\r\n');
    }
    await Promise.all(sockets.map((s) => once(s, 'data')));
    await sleep(1500); // let GC and stats settle
    return server.stats()?.rssBytes ?? Number.NaN;
  } finally {
    for (const s of sockets) s.destroy();
  }
}

const fmt = (xs: number[]): string =>
  `${Math.round(mid(xs)).toLocaleString('en')} (${Math.round(Math.min(...xs))}–${Math.round(Math.max(...xs))})`;

const results = new Map<string, { c1: number[]; c100: number[]; rss: number }>();
const servers = new Map<string, Server>();
const idleThreads = new Map<string, number>();
for (const m of MODELS) {
  console.error(`starting ${m.name}`);
  const s = await serve(m.args);
  servers.set(m.name, s);
  results.set(m.name, { c1: [], c100: [], rss: Number.NaN });
  while (s.stats() === undefined) await sleep(50);
  idleThreads.set(m.name, s.stats()!.threadsAlive);
}
try {
  for (const m of MODELS) {
    const s = servers.get(m.name)!;
    console.error(`warm-up and idle RSS: ${m.name}`);
    await cannon(s, idleThreads.get(m.name)!, 10, 1); // warm-up: JIT, pool threads, cluster workers
    results.get(m.name)!.rss = await idleRss(s, 100);
    await quiesce(s, idleThreads.get(m.name)!);
  }
  for (let run = 1; run <= RUNS; run++) {
    for (const m of MODELS) {
      const s = servers.get(m.name)!;
      const idle = idleThreads.get(m.name)!;
      const r = results.get(m.name)!;
      r.c1.push(await cannon(s, idle, 1, DURATION));
      r.c100.push(await cannon(s, idle, 100, 2 * DURATION));
      console.error(
        `run ${run} ${m.name}: c=1 ${Math.round(r.c1.at(-1)!)} req/s, c=100 ${Math.round(r.c100.at(-1)!)} req/s`,
      );
    }
  }
} finally {
  await Promise.all([...servers.values()].map(stop));
}

const loop = results.get('loop')!;
console.log(
  `\n/plaintext, autocannon keep-alive, c=1 for ${DURATION} s and c=100 for ${2 * DURATION} s per run, ${RUNS} runs interleaved;` +
    ' steady req/s = median per-second count over the 2nd half of a run; median (min–max) over runs\n',
);
console.log('| model | c=1 | ×loop | c=100 | ×loop | RSS, 100 idle conns |');
console.log('|---|---|---|---|---|---|');
for (const m of MODELS) {
  const r = results.get(m.name)!;
  console.log(
    `| ${m.name} | ${fmt(r.c1)} | ${(mid(r.c1) / mid(loop.c1)).toFixed(2)} | ${fmt(r.c100)} | ${(mid(r.c100) / mid(loop.c100)).toFixed(2)} | ${(r.rss / 2 ** 20).toFixed(0)} MiB |`,
  );
}
const bio = results.get('bio')!;
const relay = (1 / mid(bio.c1) - 1 / mid(loop.c1)) * 1e6;
console.log(
  `\nrelay cost at 1 connection (bio vs loop): ${relay.toFixed(0)} µs per request-response (median of each)`,
);
