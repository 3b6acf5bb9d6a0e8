/**
 * One conformance suite for every server model × protocol, through the real `iolab serve` command:
 * each model × protocol gets ONE server process (shared by its tests, SIGTERM'd by its last test, killed
 * in afterAll whatever happens), driven by real clients — raw `net` sockets written byte-exact, undici,
 * and a short autocannon burst. Small-cap servers (`--max-threads 2`, `--threads 1 --queue 1`) check
 * refusal and thread holding.
 *
 * Run `npm run build` first: the command runs from dist/.
 */

import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createConnection, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { sleep, until } from '@iolab/testkit';
import autocannon from 'autocannon';
import { request } from 'undici';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';

// Generous: 2 shared cores, and bio pays a thread start-up per new connection.
vi.setConfig({ testTimeout: 30_000 });

const BIN = fileURLToPath(new URL('../bin/iolab.js', import.meta.url));
const HOST = '127.0.0.1';

// ── server processes ────────────────────────────────────────────────────────────────────────────────

interface Stats {
  connections: number;
  threadsAlive: number;
  threadsPeak: number;
  threadsStarted?: number;
  threadsReused?: number;
  threadsIdle?: number;
  queueLength: number;
  requests: number;
  errors: number;
  refused: number;
  rssBytes: number;
}

interface ServeProcess {
  readonly port: number;
  readonly child: ChildProcess;
  /** The newest stats line the server printed on stderr (every 100 ms). */
  stats(): Stats | undefined;
  readonly exited: Promise<number | null>;
}

const children = new Set<ChildProcess>();
// Last line of defence if vitest dies between tests: no server outlives the suite.
process.once('exit', () => {
  for (const child of children) child.kill('SIGKILL');
});

async function serve(args: readonly string[]): Promise<ServeProcess> {
  const child = spawn(
    process.execPath,
    [BIN, 'serve', ...args, '--host', HOST, '--port', '0', '--stats-interval', '100'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  children.add(child);
  const exited = new Promise<number | null>((resolve) => {
    child.once('exit', (code) => {
      children.delete(child);
      resolve(code);
    });
  });
  let latest: Stats | undefined;
  let partial = '';
  let log = ''; // non-stats stderr, for failure messages
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    partial += chunk;
    const lines = partial.split('\n');
    partial = lines.pop()!;
    for (const line of lines) {
      if (line.startsWith('{')) latest = JSON.parse(line) as Stats;
      else log += `${line}\n`;
    }
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(
      () => reject(new Error(`no 'listening on' from iolab serve ${args.join(' ')}`)),
      30_000,
    );
    child.stdout!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      out += chunk;
      const match = /^listening on 127\.0\.0\.1:(\d+)\n/.exec(out);
      if (match) {
        clearTimeout(timer);
        resolve(Number(match[1]));
      }
    });
    child.once('exit', (code) =>
      reject(new Error(`iolab serve ${args.join(' ')} exited with ${code}: ${log}${partial}`)),
    );
  });
  return { port, child, exited, stats: () => latest };
}

function stop(server: ServeProcess | undefined): void {
  if (server && server.child.exitCode === null) server.child.kill('SIGKILL');
}

// ── raw clients ─────────────────────────────────────────────────────────────────────────────────────

interface Client {
  readonly socket: Socket;
  /** Every byte received so far. */
  bytes(): Buffer;
  readonly closed: Promise<void>;
}

const openClients = new Set<Socket>();
afterEach(() => {
  for (const socket of openClients) socket.destroy();
  openClients.clear();
});

async function connect(port: number): Promise<Client> {
  const socket = createConnection({ host: HOST, port });
  openClients.add(socket);
  const chunks: Buffer[] = [];
  let cached: Buffer | undefined;
  socket.on('data', (chunk: Buffer) => {
    chunks.push(chunk);
    cached = undefined;
  });
  socket.on('error', () => {}); // resets are asserted through `closed` where they matter
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await once(socket, 'connect');
  return {
    socket,
    closed,
    bytes: () => {
      cached ??= Buffer.concat(chunks);
      return cached;
    },
  };
}

// ── protocols, encoded by hand (independent of @iolab/protocols' own client codecs) ──────────────────

interface Reply {
  /** HTTP status, or 200 for a framed OK and 500 for a framed error. */
  readonly status: number;
  readonly body: Buffer;
}

interface Wire {
  echo(payload: Buffer): Buffer;
  sleep(ms: number): Buffer;
  /** Decodes complete replies from the start of `bytes`. */
  replies(bytes: Buffer): Reply[];
  /** A payload the protocol can carry (echo-line: no LF, no trailing CR). */
  payload(size: number, seed: number): Buffer;
}

function httpRequest(method: string, path: string, body?: Buffer, extraHeaders = ''): Buffer {
  const head = `${method} ${path} HTTP/1.1\r\nHost: t\r\n${body ? `Content-Length: ${body.length}\r\n` : ''}${extraHeaders}\r\n`;
  return body ? Buffer.concat([Buffer.from(head, 'latin1'), body]) : Buffer.from(head, 'latin1');
}

/** Parses Content-Length-delimited HTTP/1.1 responses (what every model here sends). */
function httpReplies(bytes: Buffer): Reply[] {
  const out: Reply[] = [];
  let at = 0;
  for (;;) {
    const end = bytes.indexOf('\r\n\r\n', at, 'latin1');
    if (end === -1) return out;
    const head = bytes.subarray(at, end).toString('latin1');
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]);
    const length = Number(/\r\ncontent-length: *(\d+)/i.exec(head)?.[1] ?? 0);
    if (bytes.length < end + 4 + length) return out;
    out.push({ status, body: bytes.subarray(end + 4, end + 4 + length) });
    at = end + 4 + length;
  }
}

const letters = (size: number, seed: number): Buffer => {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) b[i] = 97 + ((i * 31 + seed * 7) % 26);
  return b;
};

const WIRES: Record<'http' | 'echo-lp' | 'echo-line', Wire> = {
  http: {
    echo: (payload) => httpRequest('POST', '/echo', payload),
    sleep: (ms) => httpRequest('GET', `/sleep?ms=${ms}`),
    replies: httpReplies,
    payload: letters,
  },
  'echo-lp': {
    echo: (payload) => lpFrame(1, payload),
    sleep: (ms) => {
      const p = Buffer.alloc(4);
      p.writeUInt32BE(ms);
      return lpFrame(3, p);
    },
    replies: (bytes) => {
      const out: Reply[] = [];
      let at = 0;
      while (bytes.length - at >= 4) {
        const length = bytes.readUInt32BE(at);
        if (bytes.length - at - 4 < length) break;
        out.push({ status: bytes[at + 4] === 0 ? 200 : 500, body: bytes.subarray(at + 5, at + 4 + length) });
        at += 4 + length;
      }
      return out;
    },
    payload: (size, seed) => {
      const b = Buffer.alloc(size);
      for (let i = 0; i < size; i++) b[i] = (i * 131 + seed) & 0xff; // any byte, LF and 0 included
      return b;
    },
  },
  'echo-line': {
    echo: (payload) => Buffer.concat([Buffer.from('ECHO '), payload, Buffer.from('\n')]),
    sleep: (ms) => Buffer.from(`SLEEP ${ms}\n`),
    replies: (bytes) => {
      const out: Reply[] = [];
      let at = 0;
      for (let nl = bytes.indexOf(10, at); nl !== -1; nl = bytes.indexOf(10, at)) {
        const line = bytes.subarray(at, nl);
        const ok = line.subarray(0, 2).toString() === 'OK';
        out.push({ status: ok ? 200 : 500, body: ok ? line.subarray(line.length > 2 ? 3 : 2) : line });
        at = nl + 1;
      }
      return out;
    },
    payload: letters,
  },
};

function lpFrame(op: number, payload: Buffer): Buffer {
  const head = Buffer.alloc(5);
  head.writeUInt32BE(payload.length + 1);
  head[4] = op;
  return Buffer.concat([head, payload]);
}

/** Writes `bytes` in random-sized pieces, each its own write() (and usually its own TCP segment). */
async function writeChunked(socket: Socket, bytes: Buffer, maxPiece: number): Promise<void> {
  let at = 0;
  let seed = 12345;
  while (at < bytes.length) {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff;
    const n = Math.min(bytes.length - at, 1 + (seed % maxPiece));
    socket.write(bytes.subarray(at, at + n));
    at += n;
    if (seed % 4 === 0) await new Promise((r) => setImmediate(r));
  }
}

// ── the matrix ──────────────────────────────────────────────────────────────────────────────────────

type Protocol = keyof typeof WIRES;

interface ModelUnderTest {
  readonly name: string;
  readonly args: readonly string[];
  readonly protocols: readonly Protocol[];
}

const ALL: readonly Protocol[] = ['http', 'echo-lp', 'echo-line'];
const MODELS: readonly ModelUnderTest[] = [
  { name: 'bio', args: ['bio'], protocols: ALL },
  // 16 threads: keep-alive connections of one test hold threads until afterEach closes them.
  {
    name: 'pool connection',
    args: ['pool', '--mode', 'connection', '--threads', '16', '--queue', '1000'],
    protocols: ALL,
  },
  {
    name: 'pool request',
    args: ['pool', '--mode', 'request', '--threads', '2', '--queue', '1000'],
    protocols: ALL,
  },
  { name: 'loop', args: ['loop'], protocols: ALL },
  { name: 'loop --workers 2', args: ['loop', '--workers', '2'], protocols: ALL },
  { name: 'node-http', args: ['node-http'], protocols: ['http'] },
];
/** Connections opened at once in the concurrency test. */
const CONCURRENT = 500;
/**
 * bio starts a worker thread (a V8 isolate: ~60 ms of CPU each on a quiet 2-core machine, far more when many
 * start at once) per connection, so 500 connections at once take ~30 s and ~5 GiB RSS here: that cost is
 * the model's, and the test keeps the full count. IOLAB_CONFORMANCE_BIO_CONCURRENT lowers it for quick
 * local runs.
 */
const BIO_CONCURRENT = Number(process.env.IOLAB_CONFORMANCE_BIO_CONCURRENT ?? CONCURRENT);

for (const model of MODELS) {
  for (const protocol of model.protocols) {
    const wire = WIRES[protocol];
    describe(`${model.name} × ${protocol}`, () => {
      let server: ServeProcess;
      beforeAll(async () => {
        server = await serve([...model.args, '--protocol', protocol]);
      }, 60_000);
      afterAll(() => stop(server));

      it('keep-alive: several requests, one after another, on one connection', async () => {
        const c = await connect(server.port);
        for (let i = 1; i <= 3; i++) {
          c.socket.write(wire.echo(wire.payload(10 * i, i)));
          await until(() => wire.replies(c.bytes()).length === i, `reply ${i}`);
        }
        expect(wire.replies(c.bytes()).map((r) => r.body.toString('latin1'))).toEqual(
          [1, 2, 3].map((i) => wire.payload(10 * i, i).toString('latin1')),
        );
        expect(c.socket.destroyed).toBe(false);
      });

      it('pipelining: 16 requests in one write are answered in request order', async () => {
        const c = await connect(server.port);
        // A slow first request: a model that answered as operations finish would reorder.
        const requests = [
          wire.sleep(50),
          ...Array.from({ length: 15 }, (_, i) => wire.echo(wire.payload(5 + i, i))),
        ];
        c.socket.write(Buffer.concat(requests));
        await until(() => wire.replies(c.bytes()).length === 16, '16 replies');
        const replies = wire.replies(c.bytes());
        expect(replies.every((r) => r.status === 200)).toBe(true);
        expect(replies.slice(1).map((r) => r.body.toString('latin1'))).toEqual(
          Array.from({ length: 15 }, (_, i) => wire.payload(5 + i, i).toString('latin1')),
        );
      });

      it('a request sent one byte at a time', async () => {
        const c = await connect(server.port);
        const payload = wire.payload(20, 3);
        const bytes = wire.echo(payload);
        for (const byte of bytes) {
          c.socket.write(Buffer.from([byte]));
          await new Promise((r) => setImmediate(r));
        }
        await until(() => wire.replies(c.bytes()).length === 1, 'the reply');
        expect(wire.replies(c.bytes())[0]!.body.equals(payload)).toBe(true);
      });

      it('echo under random chunking: 100 requests split at random points', async () => {
        const c = await connect(server.port);
        const payloads = Array.from({ length: 100 }, (_, i) => wire.payload(1 + ((i * 97) % 3000), i));
        await writeChunked(c.socket, Buffer.concat(payloads.map((p) => wire.echo(p))), 700);
        await until(() => wire.replies(c.bytes()).length === 100, '100 replies');
        const replies = wire.replies(c.bytes());
        replies.forEach((r, i) => {
          expect(r.body.equals(payloads[i]!), `reply ${i}`).toBe(true);
        });
      });

      it('a large body (900 KiB) comes back intact', async () => {
        const c = await connect(server.port);
        const payload = wire.payload(900 * 1024, 9);
        c.socket.write(wire.echo(payload));
        await until(() => wire.replies(c.bytes()).length === 1, 'the large reply', 30_000);
        expect(wire.replies(c.bytes())[0]!.body.equals(payload)).toBe(true);
      });

      if (protocol === 'http') {
        it('chunked request body', async () => {
          const c = await connect(server.port);
          c.socket.write(
            'POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\n\r\n' +
              '5\r\nhello\r\n1;ext=1\r\n,\r\n6\r\n world\r\n0\r\n\r\n',
          );
          await until(() => httpReplies(c.bytes()).length === 1, 'the reply');
          expect(httpReplies(c.bytes())[0]).toMatchObject({ status: 200 });
          expect(httpReplies(c.bytes())[0]!.body.toString()).toBe('hello, world');
        });

        it('undici: routes and a large POST', async () => {
          const base = `http://${HOST}:${server.port}`;
          const plain = await request(`${base}/plaintext`);
          expect(plain.statusCode).toBe(200);
          expect(await plain.body.text()).toBe('Hello, World!');
          const json = await request(`${base}/json`);
          expect(await json.body.json()).toEqual({ message: 'Hello, World!' });
          const body = letters(700 * 1024, 5);
          const echo = await request(`${base}/echo`, { method: 'POST', body });
          expect(Buffer.from(await echo.body.arrayBuffer()).equals(body)).toBe(true);
          const missing = await request(`${base}/missing`);
          expect(missing.statusCode).toBe(404);
          await missing.body.dump();
        });

        it('malformed request → 400 and close', async () => {
          const c = await connect(server.port);
          c.socket.write('GET /plaintext HTTP/1.1\r\nHost t\r\nBroken header line\r\n\r\n');
          await c.closed;
          expect(httpReplies(c.bytes())[0]?.status).toBe(400);
        });

        it('oversized headers → 431 and close', async () => {
          const c = await connect(server.port);
          c.socket.write(`GET /plaintext HTTP/1.1\r\nHost: t\r\nX-Big: ${'a'.repeat(32 * 1024)}\r\n\r\n`);
          await c.closed;
          expect(httpReplies(c.bytes())[0]?.status).toBe(431);
        });

        it('a short autocannon burst: every response 2xx, no errors', async () => {
          // A fixed amount rather than a duration: bio's thread start-up must not eat the whole burst.
          const result = await autocannon({
            url: `http://${HOST}:${server.port}/plaintext`,
            connections: 10,
            pipelining: 2,
            amount: 2000,
          });
          expect(result.errors).toBe(0);
          expect(result.timeouts).toBe(0);
          expect(result.non2xx).toBe(0);
          // autocannon stops counting at `amount` sent; up to connections × pipelining replies go unrecorded.
          expect(result['2xx']).toBeGreaterThanOrEqual(2000 - 10 * 2);
        });
      } else {
        it('a bad request gets an error reply and the connection stays usable', async () => {
          const c = await connect(server.port);
          c.socket.write(protocol === 'echo-lp' ? lpFrame(99, Buffer.from('x')) : Buffer.from('BOGUS 1\n'));
          c.socket.write(wire.echo(Buffer.from('after')));
          await until(() => wire.replies(c.bytes()).length === 2, 'two replies');
          const [bad, good] = wire.replies(c.bytes());
          expect(bad!.status).toBe(500);
          expect(good).toMatchObject({ status: 200 });
          expect(good!.body.toString()).toBe('after');
        });

        it('a frame over the size cap gets an error reply, then close', async () => {
          const c = await connect(server.port);
          if (protocol === 'echo-lp') {
            const head = Buffer.alloc(5);
            head.writeUInt32BE(64 * 1024 * 1024);
            head[4] = 1;
            c.socket.write(head);
          } else {
            c.socket.write(`ECHO ${'a'.repeat(1100 * 1024)}`); // no LF: a line longer than the cap
          }
          await c.closed;
          expect(wire.replies(c.bytes())[0]?.status).toBe(500);
        });
      }

      const concurrent = model.name === 'bio' ? BIO_CONCURRENT : CONCURRENT;
      it(`${concurrent} concurrent connections are all served`, async () => {
        const clients = await Promise.all(Array.from({ length: concurrent }, () => connect(server.port)));
        // One request each, then FIN: a thread-holding model must free the thread for the next one.
        for (const [i, c] of clients.entries()) c.socket.end(wire.echo(wire.payload(8, i)));
        await Promise.all(clients.map((c) => c.closed));
        clients.forEach((c, i) => {
          const replies = wire.replies(c.bytes());
          expect(replies, `connection ${i}`).toHaveLength(1);
          expect(replies[0]!.body.equals(wire.payload(8, i))).toBe(true);
        });
      }, 150_000);

      it('a sleep on one connection does not delay another connection (spare threads, or the loop)', async () => {
        const sleeper = await connect(server.port);
        const other = await connect(server.port);
        // Warm both connections first, so a thread model's start-up is not what we time.
        for (const c of [sleeper, other]) c.socket.write(wire.echo(Buffer.from('warm')));
        await until(() => [sleeper, other].every((c) => wire.replies(c.bytes()).length === 1), 'warm-up');
        sleeper.socket.write(wire.sleep(1500));
        await sleep(50);
        const t0 = Date.now();
        other.socket.write(wire.echo(Buffer.from('quick')));
        await until(() => wire.replies(other.bytes()).length === 2, 'the quick reply');
        expect(Date.now() - t0).toBeLessThan(1200);
        expect(wire.replies(sleeper.bytes())).toHaveLength(1);
        await until(() => wire.replies(sleeper.bytes()).length === 2, 'the sleeper');
      });

      it('SIGTERM drains: the in-flight request is answered, then the process exits 0', async () => {
        const busy = await connect(server.port);
        const idle = await connect(server.port);
        busy.socket.write(wire.echo(Buffer.from('warm')));
        await until(() => wire.replies(busy.bytes()).length === 1, 'warm-up');
        busy.socket.write(wire.sleep(400));
        await sleep(100); // the request is in the session (in flight) before the signal
        server.child.kill('SIGTERM');
        await busy.closed;
        expect(wire.replies(busy.bytes()).map((r) => r.status)).toEqual([200, 200]);
        await idle.closed;
        expect(await server.exited).toBe(0);
      });
    });
  }
}

// ── caps: refusal and thread holding ────────────────────────────────────────────────────────────────

describe('caps: refusal with the process still serving, and threads held by a sleep', () => {
  const started: ServeProcess[] = [];
  afterAll(() => {
    for (const s of started) stop(s);
  });
  const capped = async (args: string[]): Promise<ServeProcess> => {
    const s = await serve(args);
    started.push(s);
    return s;
  };

  for (const protocol of ['http', 'echo-lp'] as const) {
    const wire = WIRES[protocol];
    const refusalBody = protocol === 'http' ? [503] : [];

    it(`bio --max-threads 2 × ${protocol}: a sleeping connection holds its thread; the third connection is refused`, async () => {
      const server = await capped(['bio', '--max-threads', '2', '--protocol', protocol]);
      const sleeper = await connect(server.port);
      const other = await connect(server.port);
      sleeper.socket.write(wire.sleep(1000));
      other.socket.write(wire.echo(Buffer.from('a')));
      await until(() => wire.replies(other.bytes()).length === 1, 'the other reply');
      await until(() => server.stats()?.threadsAlive === 2, 'two threads in stats');
      const refused = await connect(server.port);
      await refused.closed;
      expect(wire.replies(refused.bytes()).map((r) => r.status)).toEqual(refusalBody);
      await until(() => (server.stats()?.refused ?? 0) >= 1, 'refused in stats');
      other.socket.end();
      // Its thread waits idle for the next connection (--thread-keep-alive, 60 s), still under the cap.
      await until(() => server.stats()?.threadsIdle === 1, 'a thread to go idle');
      expect(server.stats()?.threadsAlive).toBe(2);
      const later = await connect(server.port);
      later.socket.write(wire.echo(Buffer.from('still serving')));
      await until(() => wire.replies(later.bytes()).length === 1, 'served after refusal');
      await until(() => server.stats()?.threadsReused === 1, 'the idle thread reused');
      expect(server.stats()?.threadsStarted).toBe(2);
      await until(() => wire.replies(sleeper.bytes()).length === 1, 'the sleeper reply');
    });

    it(`pool --mode connection --threads 1 --queue 1 × ${protocol}: queued until the thread frees; beyond the queue, refused`, async () => {
      const server = await capped([
        'pool',
        '--mode',
        'connection',
        '--threads',
        '1',
        '--queue',
        '1',
        '--protocol',
        protocol,
      ]);
      const holder = await connect(server.port);
      holder.socket.write(wire.sleep(600));
      await sleep(50);
      const waiter = await connect(server.port);
      waiter.socket.write(wire.echo(Buffer.from('waited')));
      await until(() => server.stats()?.queueLength === 1, 'the waiter in the queue');
      const refused = await connect(server.port);
      await refused.closed;
      expect(wire.replies(refused.bytes()).map((r) => r.status)).toEqual(refusalBody);
      // The holder's thread stays held after its sleep, for as long as its connection is open.
      await until(() => wire.replies(holder.bytes()).length === 1, 'the holder reply');
      await sleep(200);
      expect(wire.replies(waiter.bytes())).toHaveLength(0);
      holder.socket.end();
      await until(() => wire.replies(waiter.bytes()).length === 1, 'the waiter, once the thread frees');
      expect(wire.replies(waiter.bytes())[0]!.body.toString()).toBe('waited');
      await until(() => (server.stats()?.refused ?? 0) === 1, 'refused in stats');
    });
  }

  it('bio --thread-keep-alive 0: each connection starts its own thread, which ends with it', async () => {
    const server = await capped(['bio', '--thread-keep-alive', '0']);
    for (const expected of [1, 2]) {
      const client = await connect(server.port);
      client.socket.write(WIRES.http.echo(Buffer.from('a')));
      await until(() => WIRES.http.replies(client.bytes()).length === 1, 'the reply');
      client.socket.end();
      await until(
        () => server.stats()?.threadsStarted === expected && server.stats()?.threadsAlive === 0,
        `thread ${expected} to start and end`,
      );
    }
    expect(server.stats()).toMatchObject({ threadsReused: 0, threadsIdle: 0 });
  });

  it('pool --mode request --threads 1 --queue 1 × http: a sleep holds the thread; a full queue answers 503', async () => {
    const server = await capped([
      'pool',
      '--mode',
      'request',
      '--threads',
      '1',
      '--queue',
      '1',
      '--protocol',
      'http',
    ]);
    const a = await connect(server.port);
    const b = await connect(server.port);
    const c = await connect(server.port);
    a.socket.write(httpRequest('GET', '/sleep?ms=600'));
    await sleep(50);
    const t0 = Date.now();
    b.socket.write(httpRequest('GET', '/plaintext'));
    await sleep(50);
    c.socket.write(httpRequest('GET', '/plaintext'));
    await until(() => httpReplies(c.bytes()).length === 1, 'the 503');
    expect(httpReplies(c.bytes())[0]!.status).toBe(503);
    await until(() => httpReplies(b.bytes()).length === 1, 'the queued plaintext');
    // The plaintext had to wait for the only thread, held by the sleep.
    expect(Date.now() - t0).toBeGreaterThanOrEqual(400);
    c.socket.write(httpRequest('GET', '/plaintext'));
    await until(() => httpReplies(c.bytes()).length === 2, 'served after its 503');
    expect(httpReplies(c.bytes())[1]!.status).toBe(200);
  });
});
