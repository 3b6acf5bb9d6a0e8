// Decoding throughput of @iolab/framing against its Node peers, on the same bytes, in the same process.
//
//   npm run bench -w @iolab/framing                 (≈ 1–2 min)
//   IOLAB_QUICK=1 npm run bench -w @iolab/framing   (< 40 s)
//   (the script is `tsx --expose-gc bench/decode.bench.ts`)
//
// Prints a Markdown table (median ops/s, MB/s, ±rme, ratio to the fastest peer of each scenario) and
// writes the same numbers to <repo root>/reports/framing-bench.json. Targets are checked and reported
// here, never in the test suite: the machine is shared and timing assertions would be noise.

import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { decodeStream, LengthFieldDecoder, LengthFieldEncoder, LineDecoder } from '@iolab/framing';
import * as lp from 'it-length-prefixed';
// @ts-expect-error length-prefixed-stream ships no types (a peer measured against; only its decoder is used)
import lps from 'length-prefixed-stream';
import split2 from 'split2';
import { Bench } from 'tinybench';

const QUICK = process.env.IOLAB_QUICK === '1';
// Tasks of a scenario run interleaved, in ROUNDS short rounds with the order rotated each round, so a
// burst of load from other processes (this machine is shared) hits all of them alike instead of one.
// Ratios are paired: computed within each round, then the median over rounds is reported.
const ROUNDS = QUICK ? 4 : 12;
const TASK_MS = QUICK ? 240 : 2400; // per task, summed over the rounds
const WARMUP_MS = QUICK ? 40 : 200;
const KiB = 1024;
const MiB = 1024 * KiB;

// peer: a library doing the same work; reference: a peer doing less (not used for ratios); baseline: memcpy.
type Role = 'ours' | 'peer' | 'reference' | 'baseline';
interface Row {
  scenario: string;
  task: string;
  role: Role;
  bytesPerOp: number;
  opsPerSec: number;
  mbPerSec: number;
  rmePercent: number;
  samples: number;
  ratioToFastestPeer: number | null;
}

// ---------------------------------------------------------------------------------------------------------
// Inputs (built once; every task decodes exactly these bytes)

function chunked(bytes: Uint8Array, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += size) {
    // Each chunk owns its memory, as socket reads do.
    out.push(Buffer.from(bytes.subarray(at, at + size)));
  }
  return out;
}

function varintStream(frameCount: number, frameSize: number): Buffer {
  const encoder = new LengthFieldEncoder({ lengthFieldLength: 'varint' });
  const payload = Buffer.alloc(frameSize, 0x5a);
  const parts: Uint8Array[] = [];
  for (let i = 0; i < frameCount; i++) parts.push(...encoder.encode(payload));
  return Buffer.concat(parts);
}

// Inputs are built on first use: each scenario runs in its own process and builds only its own.
function lazy<T>(make: () => T): () => T {
  let value: T | undefined;
  return () => {
    value ??= make();
    return value;
  };
}

const LARGE_FRAMES = 16;
const smallChunks = lazy(() => chunked(varintStream(65_536, 64), 64 * KiB));
const largeChunks = lazy(() => chunked(varintStream(LARGE_FRAMES, MiB), 64 * KiB));
const tinyChunks = lazy(() => chunked(varintStream(1024, 64), 1));
const lineChunks = lazy(() =>
  chunked(
    Buffer.from(
      Array.from(
        { length: 50_000 },
        (_, i) => `GET /item/${i} HTTP/1.1 host=example.org user-agent=bench ${i % 97}\n`,
      ).join(''),
    ),
    64 * KiB,
  ),
);
const longLineChunks = lazy(() =>
  chunked(Buffer.concat([Buffer.alloc(MiB, 0x61), Buffer.from('\n')]), 16 * KiB),
);

const bytesOf = (chunks: Buffer[]) => chunks.reduce((n, c) => n + c.length, 0);

// ---------------------------------------------------------------------------------------------------------
// Decoding functions; each returns the number of frames it saw so the work cannot be optimised away.

function oursVarint(chunks: Buffer[]): number {
  const decoder = new LengthFieldDecoder({ lengthFieldLength: 'varint', maxFrameLength: 2 * MiB });
  let n = 0;
  for (let i = 0; i < chunks.length; i++) n += decoder.push(chunks[i]!).length;
  decoder.end();
  return n;
}

function itLengthPrefixed(chunks: Buffer[]): number {
  let n = 0;
  // Sync iterable in, sync generator out: the peer's fastest path. Its frames are Uint8ArrayLists (not
  // made contiguous here, which flatters the peer for frames that span chunks).
  for (const _frame of lp.decode(chunks, { maxDataLength: 2 * MiB })) n++;
  return n;
}

// The same, asking for each frame as one contiguous Uint8Array as our decoder returns it (copies frames
// that span chunks): what a caller needing bytes, not a list of chunks, would do.
function itLengthPrefixedContiguous(chunks: Buffer[]): number {
  let n = 0;
  for (const frame of lp.decode(chunks, { maxDataLength: 2 * MiB }))
    n += frame.subarray().length > -1 ? 1 : 0;
  return n;
}

async function lengthPrefixedStream(chunks: Buffer[]): Promise<number> {
  let n = 0;
  await pipeline(
    Readable.from(chunks),
    lps.decode({ allowEmpty: true }),
    counter(() => n++),
  );
  return n;
}

async function oursStream(chunks: Buffer[]): Promise<number> {
  let n = 0;
  const decoder = new LengthFieldDecoder({ lengthFieldLength: 'varint', maxFrameLength: 2 * MiB });
  await pipeline(
    Readable.from(chunks),
    decodeStream(decoder),
    counter(() => n++),
  );
  return n;
}

function oursLines(chunks: Buffer[]): number {
  const decoder = new LineDecoder({ maxFrameLength: 4 * MiB });
  let n = 0;
  for (let i = 0; i < chunks.length; i++) n += decoder.push(chunks[i]!).length;
  decoder.end();
  return n;
}

async function oursLinesStream(chunks: Buffer[]): Promise<number> {
  let n = 0;
  await pipeline(
    Readable.from(chunks),
    decodeStream(new LineDecoder({ maxFrameLength: 4 * MiB })),
    counter(() => n++),
  );
  return n;
}

async function split2Lines(chunks: Buffer[]): Promise<number> {
  let n = 0;
  await pipeline(
    Readable.from(chunks),
    split2({ maxLength: 4 * MiB }),
    counter(() => n++),
  );
  return n;
}

function counter(onFrame: () => void): Writable {
  return new Writable({
    objectMode: true,
    highWaterMark: 1024,
    write(_frame, _encoding, callback) {
      onFrame();
      callback();
    },
  });
}

// The floor for large frames: gather each frame's 16 chunks into one exact-size buffer, nothing else.
function memcpySet(chunks: Buffer[]): number {
  const frameBytes = bytesOf(chunks) / LARGE_FRAMES;
  let n = 0;
  let frame = Buffer.allocUnsafeSlow(frameBytes);
  let at = 0;
  for (const chunk of chunks) {
    let from = 0;
    while (from < chunk.length) {
      const take = Math.min(chunk.length - from, frame.length - at);
      frame.set(from === 0 && take === chunk.length ? chunk : chunk.subarray(from, from + take), at);
      at += take;
      from += take;
      if (at === frame.length) {
        n++;
        frame = Buffer.allocUnsafeSlow(frameBytes);
        at = 0;
      }
    }
  }
  return n;
}

function memcpyConcat(chunks: Buffer[]): number {
  const frameBytes = bytesOf(chunks) / LARGE_FRAMES;
  let n = 0;
  let parts: Buffer[] = [];
  let at = 0;
  for (const chunk of chunks) {
    let from = 0;
    while (from < chunk.length) {
      const take = Math.min(chunk.length - from, frameBytes - at);
      parts.push(from === 0 && take === chunk.length ? chunk : chunk.subarray(from, from + take));
      at += take;
      from += take;
      if (at === frameBytes) {
        Buffer.concat(parts, frameBytes);
        n++;
        parts = [];
        at = 0;
      }
    }
  }
  return n;
}

// ---------------------------------------------------------------------------------------------------------

interface Scenario {
  name: string;
  input: () => Buffer[];
  expectFrames?: number;
  tasks: [string, Role, (chunks: Buffer[]) => number | Promise<number>][];
  /** Minimum iterations per task per round (slow tasks: 1). */
  iterations?: number;
}

const scenarios: Scenario[] = [
  {
    name: '64 B varint frames, 64 KiB chunks',
    input: smallChunks,
    expectFrames: 65_536,
    tasks: [
      ['@iolab/framing LengthFieldDecoder', 'ours', oursVarint],
      ['it-length-prefixed (sync)', 'peer', itLengthPrefixed],
      ['length-prefixed-stream', 'peer', lengthPrefixedStream],
    ],
  },
  {
    name: '1 MiB varint frames, 64 KiB chunks',
    input: largeChunks,
    expectFrames: LARGE_FRAMES,
    tasks: [
      ['@iolab/framing LengthFieldDecoder', 'ours', oursVarint],
      // Frames that span chunks stay Uint8ArrayLists (no copy): less work than returning bytes.
      ['it-length-prefixed (sync, frames as Uint8ArrayList)', 'reference', itLengthPrefixed],
      ['it-length-prefixed (sync) + .subarray()', 'peer', itLengthPrefixedContiguous],
      ['length-prefixed-stream', 'peer', lengthPrefixedStream],
      ['memcpy baseline (set)', 'baseline', memcpySet],
      ['memcpy baseline (Buffer.concat)', 'baseline', memcpyConcat],
    ],
  },
  {
    name: '64 B varint frames, 1-byte chunks',
    input: tinyChunks,
    expectFrames: 1024,
    tasks: [
      ['@iolab/framing LengthFieldDecoder', 'ours', oursVarint],
      ['it-length-prefixed (sync)', 'peer', itLengthPrefixed],
      ['length-prefixed-stream', 'peer', lengthPrefixedStream],
    ],
  },
  {
    name: 'lines (~70 B), 64 KiB chunks',
    input: lineChunks,
    expectFrames: 50_000,
    tasks: [
      ['@iolab/framing LineDecoder', 'ours', oursLines],
      ['@iolab/framing decodeStream(LineDecoder)', 'ours', oursLinesStream],
      ['split2', 'peer', split2Lines],
    ],
  },
  {
    name: 'stream adapter: 64 B varint frames, 64 KiB chunks',
    input: smallChunks,
    expectFrames: 65_536,
    tasks: [
      ['@iolab/framing decodeStream(LengthFieldDecoder)', 'ours', oursStream],
      ['length-prefixed-stream', 'peer', lengthPrefixedStream],
    ],
  },
  {
    name: 'one 1 MiB line, 16 KiB chunks',
    input: longLineChunks,
    expectFrames: 1,
    iterations: 1,
    tasks: [
      ['@iolab/framing LineDecoder', 'ours', oursLines],
      ['split2', 'peer', split2Lines],
    ],
  },
];

interface ScenarioResult {
  rows: Row[];
  /** Per task: the median time of each round, in ms (for paired ratios). */
  roundTimes: Record<string, number[]>;
}

// Measures one scenario: all its tasks, interleaved in rounds, in this process.
async function measureScenario(scenario: Scenario): Promise<ScenarioResult> {
  const chunks = scenario.input();
  const bytes = bytesOf(chunks);
  for (const [task, , fn] of scenario.tasks) {
    const frames = await fn(chunks);
    if (scenario.expectFrames !== undefined && frames !== scenario.expectFrames) {
      throw new Error(
        `${scenario.name} / ${task}: decoded ${frames} frames, expected ${scenario.expectFrames}`,
      );
    }
  }
  const samples = new Map<string, number[]>(scenario.tasks.map(([task]) => [task, []]));
  const roundTimes: Record<string, number[]> = Object.fromEntries(scenario.tasks.map(([task]) => [task, []]));
  for (let round = 0; round < ROUNDS; round++) {
    collectGarbage();
    const bench = new Bench({
      time: TASK_MS / ROUNDS,
      warmupTime: round === 0 ? WARMUP_MS : 0,
      warmupIterations: round === 0 ? 2 : 0,
      iterations: QUICK ? 1 : (scenario.iterations ?? 3),
    });
    const order = scenario.tasks.map((_, i) => scenario.tasks[(i + round) % scenario.tasks.length]!);
    for (const [task, , fn] of order) bench.add(task, () => fn(chunks));
    if (round === 0) await bench.warmup();
    await bench.run();
    for (const [task] of order) {
      const result = bench.getTask(task)!.result!;
      if (result.error) throw result.error;
      samples.get(task)!.push(...result.samples);
      roundTimes[task]!.push(median(result.samples));
    }
  }
  // Median over rounds of (ops/s of a) / (ops/s of b), both measured in the same round.
  const pairedRatio = (a: string, b: string) => median(roundTimes[a]!.map((t, i) => roundTimes[b]![i]! / t));
  const measured = scenario.tasks.map(([task, role]) => {
    const ms = samples.get(task)!;
    // Relative margin of error of the mean at 95 % (normal approximation), as tinybench reports it.
    const mean = ms.reduce((a, b) => a + b, 0) / ms.length;
    const sd = Math.sqrt(ms.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, ms.length - 1));
    const rme = ((1.96 * sd) / Math.sqrt(ms.length) / mean) * 100;
    return { task, role, opsPerSec: 1000 / median(ms), rme, samples: ms.length };
  });
  const peers = measured.filter((m) => m.role === 'peer').sort((a, b) => b.opsPerSec - a.opsPerSec);
  const rows = measured.map((m) => ({
    scenario: scenario.name,
    task: m.task,
    role: m.role,
    bytesPerOp: bytes,
    opsPerSec: m.opsPerSec,
    mbPerSec: (m.opsPerSec * bytes) / 1e6,
    rmePercent: m.rme,
    samples: m.samples,
    ratioToFastestPeer: peers[0] ? pairedRatio(m.task, peers[0].task) : null,
  }));
  return { rows, roundTimes };
}

const CHILD_ENV = 'IOLAB_BENCH_SCENARIO';
const RESULT_MARK = '@@framing-bench-result ';

// Each scenario runs in a fresh child process (this same script): V8's heap sizing and GC timing, shaped
// by whatever ran before, would otherwise leak from one scenario into the next — most visibly into the
// 1 MiB scenario, where when large buffers get freed decides whether memory is reused or faulted in anew.
// Peers of a scenario still run in the same process as ours, interleaved. spawnSync keeps the child in
// our process group, so Ctrl-C stops both; the timeout kills a child that hangs.
function runScenarioInChild(index: number): ScenarioResult {
  const child = spawnSync(process.execPath, [...process.execArgv, fileURLToPath(import.meta.url)], {
    env: { ...process.env, [CHILD_ENV]: String(index) },
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 300_000,
    killSignal: 'SIGKILL',
    maxBuffer: 64 * MiB,
  });
  const line = child.stdout?.split('\n').find((l) => l.startsWith(RESULT_MARK));
  if (child.status !== 0 || line === undefined) {
    throw new Error(`scenario ${scenarios[index]!.name}: child exited with ${child.status ?? child.signal}`);
  }
  return JSON.parse(line.slice(RESULT_MARK.length)) as ScenarioResult;
}

async function main(): Promise<void> {
  const childIndex = process.env[CHILD_ENV];
  if (childIndex !== undefined) {
    const result = await measureScenario(scenarios[Number(childIndex)]!);
    process.stdout.write(`${RESULT_MARK}${JSON.stringify(result)}\n`);
    return;
  }
  const started = Date.now();
  const rows: Row[] = [];
  const roundTimes = new Map<string, number[]>();
  // Median over rounds of (ops/s of a) / (ops/s of b), both measured in the same round.
  const pairedRatio = (scenario: string, a: string, b: string): number => {
    const ta = roundTimes.get(`${scenario}\u0000${a}`)!;
    const tb = roundTimes.get(`${scenario}\u0000${b}`)!;
    return median(ta.map((t, i) => tb[i]! / t));
  };
  // IOLAB_BENCH_ONLY='lines,1 MiB': run only the scenarios whose name contains one of these.
  const only = process.env.IOLAB_BENCH_ONLY?.split(',');
  for (const [index, scenario] of scenarios.entries()) {
    if (only !== undefined && !only.some((o) => scenario.name.includes(o))) continue;
    const result = runScenarioInChild(index);
    rows.push(...result.rows);
    for (const [task, times] of Object.entries(result.roundTimes)) {
      roundTimes.set(`${scenario.name}\u0000${task}`, times);
    }
    process.stderr.write(`  measured: ${scenario.name}\n`);
  }

  const find = (scenario: Scenario, task: string) =>
    rows.find((r) => r.scenario === scenario.name && r.task === task);
  const fastestPeerOf = (scenario: Scenario) =>
    rows
      .filter((r) => r.scenario === scenario.name && r.role === 'peer')
      .sort((a, b) => b.opsPerSec - a.opsPerSec)[0];
  const [small64, large1m, , lineScenario, streamScenario] = scenarios as [
    Scenario,
    Scenario,
    Scenario,
    Scenario,
    Scenario,
  ];
  // A target is checked when both of its rows were measured (IOLAB_BENCH_ONLY may skip scenarios).
  const targets = (
    [
      [
        '64 B varint frames: sync core ≥ 3× the fastest peer',
        find(small64, '@iolab/framing LengthFieldDecoder'),
        fastestPeerOf(small64),
        3,
      ],
      [
        'lines: sync core ≥ 1.5× split2',
        find(lineScenario, '@iolab/framing LineDecoder'),
        find(lineScenario, 'split2'),
        1.5,
      ],
      [
        'stream adapter faster than length-prefixed-stream',
        find(streamScenario, '@iolab/framing decodeStream(LengthFieldDecoder)'),
        find(streamScenario, 'length-prefixed-stream'),
        1,
      ],
      // Buffer.concat of a frame's chunks is the same memory work as ours (hold the chunks, allocate the
      // exact size once, copy): the memcpy-speed target. The `set` baseline copies each chunk as it
      // arrives into a buffer allocated up front — which a decoder must not do, since the size comes from
      // an untrusted length field — and is shown for information.
      [
        '1 MiB frames at memcpy speed (≥ 0.8× memcpy baseline (Buffer.concat))',
        find(large1m, '@iolab/framing LengthFieldDecoder'),
        find(large1m, 'memcpy baseline (Buffer.concat)'),
        0.8,
      ],
      [
        '1 MiB frames vs memcpy baseline (set into a buffer allocated up front) — information',
        find(large1m, '@iolab/framing LengthFieldDecoder'),
        find(large1m, 'memcpy baseline (set)'),
        null,
      ],
    ] as const
  ).flatMap(([target, ours, other, threshold]) => {
    if (ours === undefined || other === undefined) return [];
    const ratio = pairedRatio(ours.scenario, ours.task, other.task);
    return [{ target, ratio, threshold, met: threshold === null ? null : ratio >= threshold }];
  });

  const lines: string[] = [];
  lines.push(
    `Node ${process.version}, ${os.cpus()[0]?.model ?? 'cpu'} ×${os.cpus().length}, ${QUICK ? 'quick' : 'full'} run; ` +
      `ops/s are medians over ${ROUNDS} interleaved rounds; ±rme is the 95% margin of the mean; ` +
      'ratios are medians of per-round ratios.',
  );
  lines.push('');
  lines.push('| scenario | task | ops/s | MB/s | ±rme | samples | × fastest peer |');
  lines.push('|---|---|---:|---:|---:|---:|---:|');
  for (const r of rows) {
    lines.push(
      `| ${r.scenario} | ${r.task} | ${fmt(r.opsPerSec)} | ${fmt(r.mbPerSec)} | ${r.rmePercent.toFixed(1)}% | ${r.samples} | ${
        r.ratioToFastestPeer === null ? '—' : `${r.ratioToFastestPeer.toFixed(2)}×`
      } |`,
    );
  }
  lines.push('');
  lines.push('| target | measured | met |');
  lines.push('|---|---:|:---:|');
  for (const t of targets) {
    lines.push(`| ${t.target} | ${t.ratio.toFixed(2)}× | ${t.met === null ? '—' : t.met ? 'yes' : 'NO'} |`);
  }
  console.log(lines.join('\n'));

  const reportsDir = fileURLToPath(new URL('../../../reports/', import.meta.url));
  mkdirSync(reportsDir, { recursive: true });
  const file = `${reportsDir}framing-bench.json`;
  writeFileSync(
    file,
    `${JSON.stringify(
      {
        // title/markdown/conclusions/commands/charts: read as a report section by the repo's bench report.
        title: 'Framing codecs (micro-benchmark)',
        markdown: lines.join('\n'),
        conclusions: targets.map(
          (t) =>
            `${t.target}: measured ${t.ratio.toFixed(2)}×${t.met === null ? '.' : ` — ${t.met ? 'met' : 'NOT met'}.`}`,
        ),
        commands: [`${QUICK ? 'IOLAB_QUICK=1 ' : ''}npm run bench -w @iolab/framing`],
        charts: [
          {
            id: 'framing-throughput',
            title: 'Decode throughput per scenario (median MB/s, log scale)',
            spec: {
              $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
              data: {
                values: rows.map(({ scenario, task, role, mbPerSec }) => ({
                  scenario,
                  task,
                  role,
                  mbPerSec,
                })),
              },
              mark: 'bar',
              encoding: {
                row: { field: 'scenario', type: 'nominal', header: { labelAngle: 0, labelAlign: 'left' } },
                y: { field: 'task', type: 'nominal', title: null },
                x: { field: 'mbPerSec', type: 'quantitative', scale: { type: 'log' }, title: 'MB/s' },
                color: { field: 'role', type: 'nominal' },
              },
              resolve: { scale: { y: 'independent' } },
            },
          },
        ],
        benchmark: '@iolab/framing decode',
        date: new Date().toISOString(),
        node: process.version,
        cpu: os.cpus()[0]?.model,
        cpus: os.cpus().length,
        quick: QUICK,
        statistic: `median ops/s over ${ROUNDS} interleaved rounds; rme = 95% relative margin of error of the mean; ratios = median of per-round ratios`,
        rows,
        targets,
        elapsedSeconds: (Date.now() - started) / 1000,
      },
      null,
      2,
    )}\n`,
  );
  console.log(`\nwrote ${file} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

// Each round starts from a collected heap (the script runs with --expose-gc), so garbage left by one
// scenario's or task's allocations is not billed to whichever task happens to run next.
function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

function fmt(x: number): string {
  if (x >= 100) return Math.round(x).toLocaleString('en-US');
  return x.toFixed(x >= 10 ? 1 : 2);
}

await main();
