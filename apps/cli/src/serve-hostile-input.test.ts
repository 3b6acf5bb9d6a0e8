/**
 * Issue 9: no input a client sends takes a server down. The hostile corpus (`test-hostile-corpus.ts`)
 * and random mutations of valid requests go through real sockets to every model × protocol, as real
 * `iolab serve` processes (one per model × protocol, started once, all cases run against it):
 *
 *   bio · pool --mode connection · pool --mode request · loop · node-http (HTTP only, the reference)
 *     × http · echo-lp · echo-line
 *
 * Every case is sent twice at once on two connections — whole (one write) and piecewise (one write()
 * per byte, or per 1/512 of the case for the 1 MiB cases, with an event-loop turn between writes) — and
 * then FIN, unless the case must make the server close on its own (an error). After every case: the
 * process is alive, each connection got the expected statuses (framed: replies) and was closed, the
 * server logged no failure of its own (`IOLAB_SERVER_*`), and a normal request on a new connection is
 * served. The piecewise send cannot force the server's reads to one byte each (loopback may coalesce
 * writes); split-at-every-offset is proven in memory by the protocol tests (http-session-malformed).
 *
 * Run `npm run build` first: the command runs from dist/.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createConnection, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ECHO_LINE_CORPUS, ECHO_LP_CORPUS, type FramedCase, HTTP_CORPUS } from './test-hostile-corpus.js';

// Generous: 2 shared cores, 1 MiB cases, and bio pays a thread start-up per new connection. Cases of one
// server run CASE_CONCURRENCY at a time (each still checks health after itself): bio's thread start-up is
// mostly latency, so this is what keeps the suite short; the cases are independent connections.
const CASE_CONCURRENCY = 6;
vi.setConfig({ testTimeout: 60_000, hookTimeout: 30_000, maxConcurrency: CASE_CONCURRENCY });

const BIN = fileURLToPath(new URL('../bin/iolab.js', import.meta.url));
const HOST = '127.0.0.1';
/** How long a case may take to be answered and closed; a hang is a failure, not a wait. */
const CASE_TIMEOUT_MS = 15_000;
/** Piecewise sends make at most this many writes (every byte for all but the 1 MiB cases). */
const MAX_PIECES = 512;
/** fast-check runs per model × protocol: enough to vary, few enough for CI on 2 cores. */
const MUTATION_RUNS = 12;

// ── server processes ────────────────────────────────────────────────────────────────────────────────

interface ServeProcess {
  readonly port: number;
  readonly child: ChildProcess;
  /** stderr lines that are not stats lines. */
  readonly log: string[];
  /** `rejected` from the newest stats line (printed every STATS_INTERVAL_MS). */
  rejected(): number | undefined;
}

/** Stats lines often enough that the check after the corpus waits little. */
const STATS_INTERVAL_MS = 100;

const children = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

async function serve(args: readonly string[]): Promise<ServeProcess> {
  const child = spawn(
    process.execPath,
    [BIN, 'serve', ...args, '--host', HOST, '--port', '0', '--stats-interval', String(STATS_INTERVAL_MS)],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  children.add(child);
  child.once('exit', () => children.delete(child));
  const log: string[] = [];
  let rejected: number | undefined;
  let partial = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    partial += chunk;
    const lines = partial.split('\n');
    partial = lines.pop()!;
    for (const line of lines) {
      if (line.startsWith('{')) rejected = (JSON.parse(line) as { rejected: number }).rejected;
      else log.push(line);
    }
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      out += chunk;
      const match = /^listening on 127\.0\.0\.1:(\d+)\n/.exec(out);
      if (match) resolve(Number(match[1]));
    });
    child.once('exit', (code) =>
      reject(new Error(`iolab serve ${args.join(' ')} exited with ${code}: ${log}`)),
    );
  });
  return { port, child, log, rejected: () => rejected };
}

function alive(server: ServeProcess): boolean {
  return server.child.exitCode === null && server.child.signalCode === null;
}

// ── raw exchanges ───────────────────────────────────────────────────────────────────────────────────

// Cases run concurrently, so no afterEach may touch sockets: each exchange destroys its own socket when
// it settles (also on timeout); this only catches what a failed test left behind.
const openSockets = new Set<Socket>();
afterAll(() => {
  for (const socket of openSockets) socket.destroy();
  openSockets.clear();
});

/** `bytes` as the writes of one send: one piece, or up to MAX_PIECES pieces. */
function pieces(bytes: Buffer, piecewise: boolean): Buffer[] {
  if (!piecewise) return [bytes];
  const size = Math.max(1, Math.ceil(bytes.length / MAX_PIECES));
  const out: Buffer[] = [];
  for (let i = 0; i < bytes.length; i += size) out.push(bytes.subarray(i, i + size));
  return out;
}

/**
 * Connects, writes `bytes` (piecewise or whole), half-closes if `fin`, and resolves with everything
 * received once the server has closed the connection. Rejects if it is still open after CASE_TIMEOUT_MS.
 */
async function exchange(port: number, bytes: Buffer, piecewise: boolean, fin: boolean): Promise<Buffer> {
  const socket = createConnection({ host: HOST, port });
  openSockets.add(socket);
  socket.setNoDelay(true);
  const chunks: Buffer[] = [];
  socket.on('data', (chunk: Buffer) => chunks.push(chunk));
  socket.on('error', () => {}); // a reset after the server's answer is fine; what was read is checked
  // The server's FIN is its close: it may linger for our FIN before it releases the socket.
  const closed = new Promise<void>((resolve) => {
    socket.once('end', () => resolve());
    socket.once('close', () => resolve());
  });
  await once(socket, 'connect');
  for (const piece of pieces(bytes, piecewise)) {
    // The server answered an error and is closing: what is left would only be discarded (or reset us).
    if (socket.destroyed || socket.readableEnded) break;
    socket.write(piece);
    if (piecewise) await new Promise((resolve) => setImmediate(resolve));
  }
  if (fin && !socket.destroyed) socket.end();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), CASE_TIMEOUT_MS);
  });
  const outcome = await Promise.race([closed, timeout]);
  clearTimeout(timer);
  socket.destroy();
  openSockets.delete(socket);
  if (outcome === 'timeout') {
    throw new Error(
      `connection still open after ${CASE_TIMEOUT_MS} ms; received ${Buffer.concat(chunks).length} bytes`,
    );
  }
  return Buffer.concat(chunks);
}

interface HttpResponse {
  readonly status: number;
  readonly body: string;
}

/** Splits HTTP/1.1 responses (no HEAD in the corpus): Content-Length or chunked bodies, else to close. */
function parseHttp(bytes: Buffer): HttpResponse[] {
  const text = bytes.toString('latin1');
  const out: HttpResponse[] = [];
  let at = 0;
  while (at < text.length) {
    const end = text.indexOf('\r\n\r\n', at);
    if (end === -1) throw new Error(`incomplete response head: ${JSON.stringify(text.slice(at, at + 200))}`);
    const head = text.slice(at, end).split('\r\n');
    const match = /^HTTP\/1\.[01] (\d{3}) /.exec(head[0]!);
    if (!match) throw new Error(`not a status line: ${JSON.stringify(head[0])}`);
    const status = Number(match[1]);
    const fields = new Map(
      head
        .slice(1)
        .map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]),
    );
    at = end + 4;
    let body = '';
    if (status >= 200) {
      const length = fields.get('content-length');
      if (length !== undefined) {
        body = text.slice(at, at + Number(length));
        at += Number(length);
      } else if (fields.get('transfer-encoding') === 'chunked') {
        for (;;) {
          const lineEnd = text.indexOf('\r\n', at);
          const size = Number.parseInt(text.slice(at, lineEnd), 16);
          at = lineEnd + 2;
          if (size === 0) {
            at = text.indexOf('\r\n\r\n', at - 2) + 4;
            break;
          }
          body += text.slice(at, at + size);
          at += size + 2;
        }
      } else {
        body = text.slice(at);
        at = text.length;
      }
    }
    out.push({ status, body });
  }
  return out;
}

/** echo-line replies: `OK <text>` as received, any `ERR …` as `ERR`. Fails on a partial line. */
function parseLines(bytes: Buffer): string[] {
  const text = bytes.toString('latin1');
  if (text.length > 0 && !text.endsWith('\n'))
    throw new Error(`partial reply line: ${JSON.stringify(text.slice(-80))}`);
  return text
    .split('\n')
    .slice(0, -1)
    .map((l) => (l.startsWith('ERR ') ? 'ERR' : l));
}

/** echo-lp replies: status 0 as `OK <payload>`, status 1 as `ERR`. Fails on a partial or bad frame. */
function parseFrames(bytes: Buffer): string[] {
  const out: string[] = [];
  let at = 0;
  while (at < bytes.length) {
    if (bytes.length - at < 5) throw new Error('partial reply frame header');
    const length = bytes.readUInt32BE(at);
    if (length < 1 || bytes.length - at - 4 < length)
      throw new Error(`bad or partial reply frame (length ${length})`);
    const status = bytes[at + 4];
    const payload = bytes.subarray(at + 5, at + 4 + length).toString('latin1');
    if (status === 0) out.push(payload.length === 0 ? 'OK' : `OK ${payload}`);
    else if (status === 1) out.push('ERR');
    else throw new Error(`reply status ${status}`);
    at += 4 + length;
  }
  return out;
}

// ── what is checked after every case ────────────────────────────────────────────────────────────────

const HEALTH: Record<Protocol, { readonly request: Buffer; readonly check: (answer: Buffer) => void }> = {
  http: {
    request: Buffer.from('GET /plaintext HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n'),
    check: (answer) => expect(parseHttp(answer)).toEqual([{ status: 200, body: 'Hello, World!' }]),
  },
  'echo-line': {
    request: Buffer.from('ECHO healthy\n'),
    check: (answer) => expect(parseLines(answer)).toEqual(['OK healthy']),
  },
  'echo-lp': {
    request: Buffer.from('0000000801' + Buffer.from('healthy').toString('hex'), 'hex'),
    check: (answer) => expect(parseFrames(answer)).toEqual(['OK healthy']),
  },
};

async function expectStillServing(
  server: ServeProcess,
  protocol: Protocol,
  logBefore: number,
): Promise<void> {
  expect(alive(server), 'server process alive').toBe(true);
  const health = HEALTH[protocol];
  health.check(await exchange(server.port, health.request, false, true));
  const failures = server.log.slice(logBefore).filter((l) => l.includes('IOLAB_SERVER_'));
  expect(failures, 'the server logged no failure of its own').toEqual([]);
}

// ── the matrix ──────────────────────────────────────────────────────────────────────────────────────

type Protocol = 'http' | 'echo-lp' | 'echo-line';

const MODELS: readonly {
  readonly label: string;
  readonly args: readonly string[];
  readonly httpOnly?: boolean;
}[] = [
  { label: 'bio', args: ['bio'] },
  // A connection holds a thread: enough threads for the concurrent cases' connections.
  { label: 'pool --mode connection', args: ['pool', '--mode', 'connection', '--threads', '16'] },
  { label: 'pool --mode request', args: ['pool', '--mode', 'request', '--threads', '2'] },
  { label: 'loop', args: ['loop'] },
  { label: 'node-http', args: ['node-http'], httpOnly: true },
];

const PROTOCOLS: readonly Protocol[] = ['http', 'echo-lp', 'echo-line'];

/** Valid requests the mutations start from; no sleep or cpu, so no mutation can make a case slow. */
const HTTP_SEEDS = [
  'GET /plaintext HTTP/1.1\r\nHost: h\r\n\r\n',
  'GET /json HTTP/1.1\r\nHost: h\r\nAccept: */*\r\n\r\n',
  'POST /echo HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello',
  'POST /echo HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5;x=y\r\nhello\r\n0\r\nT: v\r\n\r\n',
  'POST /echo HTTP/1.0\r\nConnection: keep-alive\r\nContent-Length: 2\r\n\r\nhi',
].map((s) => Buffer.from(s, 'latin1'));
const LINE_SEEDS = ['ECHO hello\n', 'ECHO\nECHO abc\r\n', 'ECHO a b c\n'].map((s) =>
  Buffer.from(s, 'latin1'),
);
// Payload bytes are letters: a mutation that turns an op into sleep/cpu reads a u32 far over its cap.
const LP_SEEDS = [
  '0000000601' + Buffer.from('hello').toString('hex'),
  '00000001010000000301' + Buffer.from('ab').toString('hex'),
].map((h) => Buffer.from(h, 'hex'));
const SEEDS: Record<Protocol, Buffer[]> = { http: HTTP_SEEDS, 'echo-line': LINE_SEEDS, 'echo-lp': LP_SEEDS };

/** Bytes a mutation favours: delimiters and the characters parsers disagree on. */
const HOSTILE_BYTES = [0x00, 0x0d, 0x0a, 0x20, 0x09, 0x3a, 0x2c, 0x3b, 0x7f, 0xff, 0x30, 0x66];
const editArb = fc.record({
  kind: fc.constantFrom('set', 'insert', 'delete', 'duplicate'),
  at: fc.nat(),
  byte: fc.oneof(fc.constantFrom(...HOSTILE_BYTES), fc.integer({ min: 0, max: 255 })),
  span: fc.integer({ min: 1, max: 8 }),
});

type Edit = typeof editArb extends fc.Arbitrary<infer T> ? T : never;

/** Applies byte edits: set one byte, insert one, delete a span, or duplicate a span in place. */
function mutate(seed: Buffer, edits: readonly Edit[]): Buffer {
  let bytes = Buffer.from(seed);
  for (const e of edits) {
    const at = bytes.length === 0 ? 0 : e.at % bytes.length;
    if (e.kind === 'set' && bytes.length > 0) bytes[at] = e.byte;
    else if (e.kind === 'insert')
      bytes = Buffer.concat([bytes.subarray(0, at), Buffer.of(e.byte), bytes.subarray(at)]);
    else if (e.kind === 'delete') bytes = Buffer.concat([bytes.subarray(0, at), bytes.subarray(at + e.span)]);
    else bytes = Buffer.concat([bytes.subarray(0, at + e.span), bytes.subarray(at)]);
  }
  return bytes;
}

/** Answers after which the server must close on its own (the stream cannot be trusted past them). */
const CLOSING_STATUSES = new Set([400, 413, 414, 431, 501, 505]);

/** What a mutated request may be answered with: anything but a failure of the server (5xx but 501/505). */
const ACCEPTABLE_HTTP = new Set([200, 400, 404, 405, 413, 414, 431, 501, 505]);

for (const model of MODELS) {
  for (const protocol of PROTOCOLS) {
    if (model.httpOnly && protocol !== 'http') continue;
    describe(`${model.label} × ${protocol}: hostile input`, () => {
      let server: ServeProcess;
      beforeAll(async () => {
        server = await serve([...model.args, '--protocol', protocol]);
      });
      afterAll(() => {
        if (server && alive(server)) server.child.kill('SIGKILL');
      });
      const parseFramed = protocol === 'echo-line' ? parseLines : parseFrames;

      if (protocol === 'http') {
        for (const c of HTTP_CORPUS) {
          const accepted = model.label === 'node-http' && c.node ? c.node.statuses : [c.statuses];
          const statuses = accepted[0]!;
          it.concurrent(`${c.name} → ${statuses.length === 0 ? 'close' : statuses.join(', ')}`, async () => {
            const logBefore = server.log.length;
            const bytes = typeof c.bytes === 'string' ? Buffer.from(c.bytes, 'latin1') : c.bytes;
            // A protocol error must close the connection by itself; anything else is ended by our FIN.
            const fin = c.fin ?? !accepted.some((list) => list.some((s) => CLOSING_STATUSES.has(s)));
            const answers = await Promise.all([
              exchange(server.port, bytes, false, fin),
              exchange(server.port, bytes, true, fin),
            ]);
            for (const [i, answer] of answers.entries()) {
              const responses = parseHttp(answer).filter((r) => r.status >= 200);
              const got = responses.map((r) => r.status);
              const match = accepted.find((a) => a.length === got.length && a.every((s, k) => s === got[k]));
              expect(got, i === 0 ? 'whole' : 'piecewise').toEqual(match ?? statuses);
              if (c.echoes && !(model.label === 'node-http' && c.node)) {
                expect(responses.map((r) => r.body)).toEqual(c.echoes);
              }
            }
            await expectStillServing(server, protocol, logBefore);
          });
        }
      } else {
        const corpus: readonly FramedCase[] = protocol === 'echo-line' ? ECHO_LINE_CORPUS : ECHO_LP_CORPUS;
        for (const c of corpus) {
          it.concurrent(`${c.name} → ${c.replies.length === 0 ? 'close' : c.replies.map((r) => r.slice(0, 12)).join(', ')}${c.closes ? ', close' : ''}`, async () => {
            const logBefore = server.log.length;
            const answers = await Promise.all([
              exchange(server.port, c.bytes, false, !c.closes),
              exchange(server.port, c.bytes, true, !c.closes),
            ]);
            for (const [i, answer] of answers.entries()) {
              expect(parseFramed(answer), i === 0 ? 'whole' : 'piecewise').toEqual(c.replies);
            }
            await expectStillServing(server, protocol, logBefore);
          });
        }
      }

      it.concurrent(`random mutations of valid requests (fast-check, ${MUTATION_RUNS} runs)`, async () => {
        await fc.assert(
          fc.asyncProperty(
            fc.constantFrom(...SEEDS[protocol]),
            fc.array(editArb, { minLength: 1, maxLength: 4 }),
            fc.boolean(),
            async (seed, edits, piecewise) => {
              const logBefore = server.log.length;
              const bytes = mutate(seed, edits);
              const answer = await exchange(server.port, bytes, piecewise, true);
              if (protocol === 'http') {
                for (const r of parseHttp(answer)) {
                  expect(ACCEPTABLE_HTTP.has(r.status) || r.status < 200, `status ${r.status}`).toBe(true);
                }
              } else {
                parseFramed(answer); // well-formed replies only
              }
              await expectStillServing(server, protocol, logBefore);
            },
          ),
          { numRuns: MUTATION_RUNS },
        );
      });

      // Not concurrent: runs once every case above has finished. The corpus's refused input is counted
      // in the stats line's `rejected` (never as the server's own `errors`) and logged with its code.
      it('after the corpus: the stats line counts the refused input, the log names its codes', async () => {
        const until = Date.now() + CASE_TIMEOUT_MS;
        while (!((server.rejected() ?? 0) > 0) && Date.now() < until) {
          await new Promise((resolve) => setTimeout(resolve, STATS_INTERVAL_MS));
        }
        expect(server.rejected()).toBeGreaterThan(0);
        const code =
          model.label === 'node-http' ? 'HPE_' : protocol === 'http' ? 'IOLAB_HTTP_' : 'IOLAB_FRAME';
        expect(server.log.some((l) => l.includes('refused its input') && l.includes(code))).toBe(true);
      });
    });
  }
}
