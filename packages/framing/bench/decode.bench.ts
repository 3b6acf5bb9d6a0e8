// Decoding throughput of @iolab/framing against its Node peers, on the same bytes, in the same process.
//
//   npm run bench -w @iolab/framing                 (≈ 1–2 min)
//   IOLAB_QUICK=1 npm run bench -w @iolab/framing   (< 40 s)
//   (the script is `tsx --expose-gc bench/decode.bench.ts --out bench-results/decode.json`)
//
// Prints a Markdown table (median ops/s, MB/s, ±rme, ratio to the fastest peer of each scenario) and, with
// `--out PATH`, writes the same numbers as plain rows (and the targets' ratios) to PATH. Turning them into a
// report section is the report's job, not this package's. Targets are checked and reported here, never in
// the test suite: the machine is shared and timing assertions would be noise.

import { spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { median } from '@iolab/harness';
import { Bench } from 'tinybench';
import { bytesOf, MiB, type Role, type Scenario, scenarios } from './decode-scenarios.js';

const QUICK = process.env.IOLAB_QUICK === '1';
/** `--out PATH`: where the plain rows go (JSON); without it the table is only printed. */
const OUT = parseArgs({ options: { out: { type: 'string' } }, strict: true }).values.out;
// Tasks of a scenario run interleaved, in ROUNDS short rounds with the order rotated each round, so a
// burst of load from other processes (this machine is shared) hits all of them alike instead of one.
// Ratios are paired: computed within each round, then the median over rounds is reported.
const ROUNDS = QUICK ? 4 : 12;
const TASK_MS = QUICK ? 240 : 2400; // per task, summed over the rounds
const WARMUP_MS = QUICK ? 40 : 200;

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
      roundTimes[task]!.push(mid(result.samples));
    }
  }
  // Median over rounds of (ops/s of a) / (ops/s of b), both measured in the same round.
  const pairedRatio = (a: string, b: string) => mid(roundTimes[a]!.map((t, i) => roundTimes[b]![i]! / t));
  const measured = scenario.tasks.map(([task, role]) => {
    const ms = samples.get(task)!;
    // Relative margin of error of the mean at 95 % (normal approximation), as tinybench reports it.
    const mean = ms.reduce((a, b) => a + b, 0) / ms.length;
    const sd = Math.sqrt(ms.reduce((a, b) => a + (b - mean) ** 2, 0) / Math.max(1, ms.length - 1));
    const rme = ((1.96 * sd) / Math.sqrt(ms.length) / mean) * 100;
    return { task, role, opsPerSec: 1000 / mid(ms), rme, samples: ms.length };
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
    return mid(ta.map((t, i) => tb[i]! / t));
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

  const statistic =
    `ops/s are medians over ${ROUNDS} interleaved rounds; ±rme is the 95% margin of the mean; ` +
    'ratios are medians of per-round ratios.';
  // A plain console table: the report (bench/) renders these rows as Markdown, this is for the terminal.
  console.log(
    `Node ${process.version}, ${os.cpus()[0]?.model ?? 'cpu'} ×${os.cpus().length}, ${QUICK ? 'quick' : 'full'} run; ${statistic}`,
  );
  console.table(
    rows.map((r) => ({
      scenario: r.scenario,
      task: r.task,
      'ops/s': fmt(r.opsPerSec),
      'MB/s': fmt(r.mbPerSec),
      '±rme %': r.rmePercent.toFixed(1),
      '× fastest peer': r.ratioToFastestPeer === null ? '—' : r.ratioToFastestPeer.toFixed(2),
    })),
  );
  for (const t of targets) {
    console.log(`${t.met === null ? 'info' : t.met ? 'met ' : 'NOT '}  ${t.ratio.toFixed(2)}×  ${t.target}`);
  }
  if (OUT === undefined) return;
  const file = resolve(OUT);
  mkdirSync(dirname(file), { recursive: true });
  // Plain rows: no Markdown, no chart. The report decides how they look.
  const plain = {
    benchmark: '@iolab/framing decode',
    date: new Date().toISOString(),
    node: process.version,
    cpu: os.cpus()[0]?.model ?? null,
    cpus: os.cpus().length,
    quick: QUICK,
    rounds: ROUNDS,
    statistic,
    command: `${QUICK ? 'IOLAB_QUICK=1 ' : ''}npm run bench -w @iolab/framing`,
    elapsedSeconds: (Date.now() - started) / 1000,
    rows,
    targets,
  };
  writeFileSync(file, `${JSON.stringify(plain, null, 2)}\n`);
  console.log(`\nwrote ${file} in ${plain.elapsedSeconds.toFixed(1)} s`);
}

// Each round starts from a collected heap (the script runs with --expose-gc), so garbage left by one
// scenario's or task's allocations is not billed to whichever task happens to run next.
function collectGarbage(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/** Medians here are of lists that are never empty (every task has samples in every round). */
function mid(values: readonly number[]): number {
  return median(values) ?? Number.NaN;
}

function fmt(x: number): string {
  if (x >= 100) return Math.round(x).toLocaleString('en-US');
  return x.toFixed(x >= 10 ? 1 : 2);
}

await main();
