/**
 * A peer's bad bytes are the peer's fault, not the server's: the session refuses them (4xx / error reply,
 * close), and the drive loop counts that once in `rejected` — never in `errors` — and logs one line with the
 * session's code. Real sessions from @iolab/protocols on real loopback sockets for the evented path; the
 * blocking loop through an in-memory BlockingIo, as its own tests do (bio and pool test it on threads).
 */
import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { createConnection, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { createSession, type ProtocolName, runOperation, type SessionRejection } from '@iolab/protocols';
import { until } from '@iolab/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import type { BlockingIo, ReadEnd } from './blocking-socket.js';
import type { ConnectionFailedError } from './errors.js';
import { serveBlocking } from './serve-blocking.js';
import { serveEvented } from './serve-evented.js';
import { type Connection, type RunningServer, ServerBase } from './server-base.js';
import { SharedCounters } from './shared-counters.js';

/** The loop's drive: a real session on the event loop, refusals logged by the base. */
class EventedServer extends ServerBase {
  readonly rejections: { id: number | undefined; rejection: SessionRejection; context: string }[] = [];
  readonly failures: ConnectionFailedError[] = [];
  constructor(protocol: ProtocolName) {
    const rejections: EventedServer['rejections'] = [];
    const failures: ConnectionFailedError[] = [];
    super({
      protocol,
      logConnectionFailure: (error) => failures.push(error),
      logConnectionRejected: (rejection, id, context) => rejections.push({ id, rejection, context }),
    });
    this.rejections = rejections;
    this.failures = failures;
  }
  protected override serve(connection: Connection): void {
    const evented = serveEvented(connection.socket, createSession(this.protocol), runOperation, {
      counters: this.counters,
      timeouts: this.timeouts,
      onFailure: (code, cause) => this.connectionFailed(connection.id, code, cause),
      onRejected: (rejection) => this.connectionRejected(connection.id, rejection, true),
      failureBytes: this.failureBytes,
    });
    connection.drain = evented.drain;
  }
}

const servers: RunningServer[] = [];
const clients: Socket[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.destroy();
  await Promise.all(servers.splice(0).map((s) => s.close(0)));
});

async function start(protocol: ProtocolName): Promise<{ model: EventedServer; server: RunningServer }> {
  const model = new EventedServer(protocol);
  const server = await model.start();
  servers.push(server);
  return { model, server };
}

/** Writes `bytes`, returns everything received until the server closes the connection. */
async function exchange(port: number, bytes: string | Uint8Array): Promise<string> {
  const socket = createConnection({ port, host: '127.0.0.1' });
  clients.push(socket);
  let received = '';
  socket.setEncoding('latin1');
  socket.on('data', (d: string) => {
    received += d;
  });
  socket.on('error', () => {});
  await once(socket, 'connect');
  socket.write(bytes);
  await once(socket, 'close');
  return received;
}

const GOOD = 'GET /plaintext HTTP/1.1\r\nHost: a\r\n\r\n';

describe('evented connections (loop, pool request mode, owned threads)', () => {
  it('HTTP: one malformed request → 400, rejected 1, errors 0, one log line with the code', async () => {
    const { model, server } = await start('http');
    // A valid request first: it is answered, then the refusal (behind it) closes the connection.
    const answer = await exchange(server.address.port, `${GOOD}GET / HTTP/1.1\r\nBad Header: x\r\n\r\n`);
    expect(answer).toMatch(/^HTTP\/1\.1 200 [\s\S]*HTTP\/1\.1 400 Bad Request\r\n/);
    await until(() => server.stats().rejected === 1, 'the refusal to be counted');
    expect(server.stats()).toMatchObject({ rejected: 1, errors: 0, requests: 1 });
    expect(model.failures).toEqual([]);
    expect(model.rejections).toHaveLength(1);
    expect(model.rejections[0]).toMatchObject({
      id: 1,
      context: 'http',
      rejection: { code: 'IOLAB_HTTP_BAD_REQUEST', status: 400 },
    });
    // Other connections are served, and a well-behaved one is never counted.
    expect(
      await exchange(server.address.port, GOOD.replace('\r\n\r\n', '\r\nConnection: close\r\n\r\n')),
    ).toMatch(/^HTTP\/1\.1 200 /);
    expect(server.stats()).toMatchObject({ rejected: 1, errors: 0 });
  });

  it('a peer that resets its connection is counted in peerResets, never in errors (it is not the server failing)', async () => {
    const { model, server } = await start('http');
    for (let i = 0; i < 3; i++) {
      const socket = createConnection({ port: server.address.port, host: '127.0.0.1' });
      clients.push(socket);
      socket.on('error', () => {});
      await once(socket, 'connect');
      // Half a request, then an RST: the server's read fails with ECONNRESET.
      socket.write('GET /plaintext HTTP/1.1\r\nHo');
      await until(() => server.stats().connections === 1, 'the connection to be accepted');
      // Let the server read the half request first, so the reset meets a connection mid-request.
      await new Promise((resolve) => setTimeout(resolve, 50));
      socket.resetAndDestroy();
      await until(() => server.stats().connections === 0, 'the server to see the reset');
    }
    await until(() => server.stats().peerResets === 3, 'three resets counted');
    expect(server.stats()).toMatchObject({ errors: 0, rejected: 0 });
    expect(model.failures).toEqual([]);
  });

  it('HTTP: each limit refused counts once with its own code (431, 413), a timeout never', async () => {
    const { model, server } = await start('http');
    await exchange(server.address.port, `GET / HTTP/1.1\r\nX: ${'a'.repeat(20_000)}\r\n\r\n`);
    await exchange(
      server.address.port,
      'POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 99999999999\r\n\r\n',
    );
    await until(() => server.stats().rejected === 2, 'both refusals');
    expect(model.rejections.map((r) => [r.rejection.code, r.rejection.status])).toEqual([
      ['IOLAB_HTTP_HEADERS_TOO_LARGE', 431],
      ['IOLAB_HTTP_BODY_TOO_LARGE', 413],
    ]);
    expect(server.stats().errors).toBe(0);
  });

  it('framed (echo-lp): a frame over the cap → error reply, rejected 1 with the framing code', async () => {
    const { model, server } = await start('echo-lp');
    const header = new Uint8Array([0xff, 0xff, 0xff, 0x7f]); // a 2 GiB length prefix
    const answer = await exchange(server.address.port, header);
    expect(answer.length).toBeGreaterThan(0);
    await until(() => server.stats().rejected === 1, 'the refusal to be counted');
    expect(server.stats().errors).toBe(0);
    expect(model.rejections).toHaveLength(1);
    expect(model.rejections[0]!.rejection.code).toMatch(/^IOLAB_FRAME/);
    expect(model.rejections[0]!.rejection.status).toBeUndefined();
    expect(model.rejections[0]!.context).toBe('echo-lp');
  });

  it('a peer that resets before the refusal is written is still counted once', async () => {
    const { model, server } = await start('http');
    const socket = createConnection({ port: server.address.port, host: '127.0.0.1' });
    clients.push(socket);
    socket.on('error', () => {});
    await once(socket, 'connect');
    socket.write('GET / HTTP/1.1\r\n\x01\r\n\r\n');
    await until(() => server.stats().rejected === 1, 'the refusal to be counted');
    socket.resetAndDestroy();
    await until(() => server.stats().connections === 0, 'the connection to go');
    expect(model.rejections).toHaveLength(1);
    expect(server.stats().rejected).toBe(1);
  });
});

/** In-memory BlockingIo: a script of reads, a log of writes. */
class ScriptedIo implements BlockingIo {
  readonly writes: string[] = [];
  closed = 0;
  readonly #reads: (string | ReadEnd)[];
  constructor(reads: (string | ReadEnd)[]) {
    this.#reads = reads;
  }
  read(): Uint8Array | ReadEnd {
    const next = this.#reads.shift();
    if (next === undefined) throw new Error('script exhausted');
    return next === 'eof' || next === 'drain' || next === 'abort' || next === 'timeout'
      ? next
      : new TextEncoder().encode(next);
  }
  write(bytes: Uint8Array): void {
    this.writes.push(new TextDecoder().decode(bytes));
  }
  close(): void {
    this.closed++;
  }
}

describe('blocking connections (bio, pool connection mode)', () => {
  it('a malformed request: answered 400, counted once in rejected (not errors), reported once', () => {
    const io = new ScriptedIo([GOOD, 'GET / HTTP/1.1\nHost: a\n\n', 'never read']);
    const counters = new SharedCounters();
    const failures: string[] = [];
    const rejected: SessionRejection[] = [];
    const end = serveBlocking(createSession('http'), io, () => {}, counters, undefined, undefined, {
      failureBytes: new Uint8Array(),
      report: (code) => failures.push(code),
      rejected: (r) => rejected.push(r),
    });
    expect(end).toBe('closed');
    expect(io.writes.join('')).toMatch(/^HTTP\/1\.1 200 [\s\S]*HTTP\/1\.1 400 /);
    expect(counters.rejected).toBe(1);
    expect(counters.errors).toBe(0);
    expect(failures).toEqual([]);
    expect(rejected.map((r) => [r.code, r.status])).toEqual([['IOLAB_HTTP_BAD_REQUEST', 400]]);
  });

  it('a header timeout is counted as a timeout, never as a refusal', () => {
    const io = new ScriptedIo(['GET / HT', 'timeout']);
    const counters = new SharedCounters();
    const rejected: SessionRejection[] = [];
    const end = serveBlocking(
      createSession('http'),
      io,
      () => {},
      counters,
      { headerTimeoutMs: 1, idleTimeoutMs: 0 },
      0,
      { failureBytes: new Uint8Array(), report: () => {}, rejected: (r) => rejected.push(r) },
    );
    expect(end).toBe('timeout');
    expect(io.writes.join('')).toMatch(/^HTTP\/1\.1 408 /);
    expect(counters.headerTimeouts).toBe(1);
    expect(counters.rejected).toBe(0);
    expect(rejected).toEqual([]);
  });
});

describe('the default rejection log', () => {
  it('writes one line per refusal with code, connection and protocol, capped per second with a summary', async () => {
    // A real process and its real stderr: the default log writes there.
    const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url));
    const script = `
      import { stderrRejectionLog } from ${JSON.stringify(dist)};
      const log = stderrRejectionLog(2);
      for (let i = 1; i <= 5; i++) log({ code: 'IOLAB_HTTP_BAD_REQUEST', status: 400, message: 'bare LF (at byte 17)' }, i, 'http');
      await new Promise((r) => setTimeout(r, 1100));
      log({ code: 'IOLAB_FRAME_TOO_LONG', message: 'frame over 1024 bytes (at byte 0)' }, 6, 'echo-lp');
    `;
    const { stderr } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script]);
    expect(stderr.split('\n').filter(Boolean)).toEqual([
      'iolab: IOLAB_HTTP_BAD_REQUEST on connection 1 (http), refused its input: 400 bare LF (at byte 17)',
      'iolab: IOLAB_HTTP_BAD_REQUEST on connection 2 (http), refused its input: 400 bare LF (at byte 17)',
      'iolab: 3 more refused connections not logged in the last 1000 ms',
      'iolab: IOLAB_FRAME_TOO_LONG on connection 6 (echo-lp), refused its input: frame over 1024 bytes (at byte 0)',
    ]);
  });
});
