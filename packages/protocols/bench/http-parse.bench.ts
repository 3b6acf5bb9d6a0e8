// Request-parsing throughput of our sans-I/O HTTP parser against http-parser-js (the other parser that
// runs in any thread), on the same bytes, in the same process. Also the whole session (parse + route +
// in-order responses) for scale. Targets are reported here, never asserted in tests.
//
//   npm run bench -w @iolab/protocols          (≈ 1 min)
//   IOLAB_QUICK=1 npm run bench -w @iolab/protocols

import { median } from '@iolab/harness';
import httpParserJs from 'http-parser-js';
import { Bench } from 'tinybench';
import { createSession } from '../src/create-session.js';
import { HttpRequestParser } from '../src/http/request-parser.js';
import { InputBuffer } from '../src/input-buffer.js';
import { resolveLimits } from '../src/limits.js';
import { runOperationSync } from '../src/operations.js';

const { HTTPParser } = httpParserJs;
const QUICK = process.env.IOLAB_QUICK === '1';
// Interleaved short rounds with rotated order: a load burst from another process hits every task alike.
const ROUNDS = QUICK ? 3 : 7;
const TASK_MS = QUICK ? 150 : 1400;

const GET =
  'GET /plaintext HTTP/1.1\r\nHost: server\r\nUser-Agent: Mozilla/5.0 (X11; Linux x86_64) Gecko/20130501 Firefox/30.0\r\n' +
  'Accept: text/plain,text/html;q=0.9,application/xhtml+xml;q=0.9,application/xml;q=0.8,*/*;q=0.7\r\n' +
  'Connection: keep-alive\r\n\r\n';

function chunk(bytes: Buffer, size: number): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += size) out.push(Buffer.from(bytes.subarray(at, at + size)));
  return out;
}

const pipelined = Buffer.from(GET.repeat(Math.floor(65536 / GET.length)), 'latin1');
const body = Buffer.alloc(4096, 0x61);
const chunkedPost = Buffer.concat([
  Buffer.from('POST /echo HTTP/1.1\r\nHost: server\r\nTransfer-Encoding: chunked\r\n\r\n'),
  ...Array.from({ length: 16 }, () => Buffer.concat([Buffer.from('1000\r\n'), body, Buffer.from('\r\n')])),
  Buffer.from('0\r\n\r\n'),
]);

const scenarios = [
  { name: `${Math.floor(65536 / GET.length)} pipelined GETs, one 64 KiB read`, chunks: [pipelined] },
  { name: 'same GETs, 16-byte reads', chunks: chunk(pipelined, 16) },
  { name: 'POST 64 KiB chunked body, 8 KiB reads', chunks: chunk(chunkedPost, 8192) },
];

const limits = resolveLimits({ maxBodyBytes: 1024 * 1024 });

function ours(chunks: Buffer[]): number {
  const parser = new HttpRequestParser(limits);
  const input = new InputBuffer();
  let n = 0;
  for (const c of chunks) {
    input.append(c);
    for (;;) {
      const step = parser.next(input);
      if (step.kind === 'need-more') break;
      if (step.kind === 'error') throw step.error;
      if (step.kind === 'request') n++;
    }
  }
  return n;
}

// The peer assembles each body too, as any user must to serve /echo: our parser hands over whole bodies.
function theirs(chunks: Buffer[]): number {
  const parser = new HTTPParser(HTTPParser.REQUEST);
  let n = 0;
  let parts: Buffer[] = [];
  parser[HTTPParser.kOnHeadersComplete] = () => {};
  parser[HTTPParser.kOnBody] = (chunk, offset, length) => {
    parts.push(chunk.subarray(offset, offset + length));
  };
  parser[HTTPParser.kOnMessageComplete] = () => {
    if (parts.length > 0) Buffer.concat(parts);
    parts = [];
    n++;
  };
  for (const c of chunks) {
    const r = parser.execute(c);
    if (r instanceof Error) throw r;
  }
  return n;
}

const noSleep = (): void => {};
function session(chunks: Buffer[]): number {
  const s = createSession('http', { maxBodyBytes: 1024 * 1024, maxPipelineDepth: 1024 });
  let bytes = 0;
  for (const c of chunks) {
    const out = s.receive(c);
    for (const b of out.send) bytes += b.length;
    for (const w of out.work)
      for (const b of s.complete(w.id, runOperationSync(w.op, noSleep)).send) bytes += b.length;
  }
  return bytes;
}

/** Every task has a figure from every round, so its median always exists. */
const mid = (xs: readonly number[]): number => median(xs) ?? Number.NaN;

const tasks = { 'ours (parser)': ours, 'http-parser-js': theirs, 'ours (whole session)': session } as const;
const rows: string[] = [];
for (const sc of scenarios) {
  const bytes = sc.chunks.reduce((a, c) => a + c.length, 0);
  const expected = ours(sc.chunks);
  if (theirs(sc.chunks) !== expected) throw new Error(`${sc.name}: parsers disagree on the request count`);
  const hz: Record<string, number[]> = {};
  const names = Object.keys(tasks) as (keyof typeof tasks)[];
  for (let round = 0; round < ROUNDS; round++) {
    const bench = new Bench({ time: TASK_MS / ROUNDS, warmupTime: 20 });
    const order = names.map((_, i) => names[(i + round) % names.length]!);
    for (const name of order) bench.add(name, () => void tasks[name](sc.chunks));
    await bench.run();
    for (const t of bench.tasks) (hz[t.name] ??= []).push(t.result!.hz);
  }
  const peer = mid(hz['http-parser-js']!);
  for (const name of names) {
    const xs = hz[name]!;
    const m = mid(xs);
    const mbs = (m * bytes) / 1e6;
    const spread = `${((Math.min(...xs) / m - 1) * 100).toFixed(0)}%/+${((Math.max(...xs) / m - 1) * 100).toFixed(0)}%`;
    const ratio = name === 'http-parser-js' ? '1.00×' : `${(m / peer).toFixed(2)}×`;
    rows.push(
      `| ${sc.name} | ${name} | ${(m * expected).toFixed(0)} req/s | ${mbs.toFixed(0)} MB/s | ${spread} | ${ratio} |`,
    );
  }
}
console.log(`\nHTTP request parsing, median of ${ROUNDS} interleaved rounds (spread = min/max vs median)\n`);
console.log('| scenario | task | requests/s | MB/s | spread | vs http-parser-js |');
console.log('|---|---|---|---|---|---|');
for (const r of rows) console.log(r);
