/**
 * The server's own failures on one connection (a session that throws, a handler that throws or rejects,
 * a model whose serve() throws) end that connection only: HTTP gets 500 where it can, the failure is
 * counted in `errors` and logged with its code, and the next connection is served. Real sockets on
 * loopback for the evented path; the blocking loop through an in-memory BlockingIo, as its own tests do.
 */
import { once } from 'node:events';
import { createConnection, type Socket } from 'node:net';
import {
  createSession,
  type Operation,
  type OperationResult,
  runOperation,
  runOperationSync,
  type SessionOutput,
} from '@iolab/protocols';
import { afterEach, describe, expect, it } from 'vitest';
import type { BlockingIo, ReadEnd } from './blocking-socket.js';
import type { ConnectionFailedError } from './errors.js';
import { serveBlocking } from './serve-blocking.js';
import { serveEvented } from './serve-evented.js';
import { type Connection, type RunningServer, ServerBase } from './server-base.js';
import { SharedCounters } from './shared-counters.js';
import { LineSession, runLineOp } from './test-line-session.js';

const decoder = new TextDecoder();

/** A line session with planted bugs: `boom` anywhere in a chunk makes receive() throw. */
class BuggySession extends LineSession {
  override receive(chunk: Uint8Array): SessionOutput {
    if (decoder.decode(chunk).includes('boom')) throw new TypeError('planted session bug');
    return super.receive(chunk);
  }
}

/** `throw` lines make the handler throw synchronously, `reject` lines make it reject. */
function buggyRunOp(op: Operation): Promise<OperationResult> {
  const line = op.kind === 'echo' ? decoder.decode(op.body) : '';
  if (line === 'throw') throw new RangeError('planted sync handler bug');
  if (line === 'reject') return Promise.reject(new Error('planted async handler bug'));
  return runLineOp(op);
}

/** The inline path: `throw` throws, echoes complete at once, sleeps go the Promise way (`undefined`). */
function buggyRunNow(op: Operation): OperationResult | undefined {
  if (op.kind !== 'echo') return undefined;
  if (decoder.decode(op.body) === 'throw') throw new RangeError('planted inline handler bug');
  return { ok: true, body: op.body, contentType: 'text/plain' };
}

/** Speaks the line protocol but declares `http`, so failures are answered with the HTTP 500 bytes. */
class BuggyServer extends ServerBase {
  readonly logged: ConnectionFailedError[] = [];
  failServe = false;
  /** Use the inline fast path (as the loop does): echo and throw lines complete without a Promise. */
  inline = false;
  constructor() {
    const logged: ConnectionFailedError[] = [];
    super({ protocol: 'http', logConnectionFailure: (error) => logged.push(error) });
    this.logged = logged;
  }
  protected override serve(connection: Connection): void {
    if (this.failServe) throw new Error('planted serve() bug');
    const evented = serveEvented(connection.socket, new BuggySession(), buggyRunOp, {
      counters: this.counters,
      timeouts: { headerTimeoutMs: 0, idleTimeoutMs: 0 },
      onFailure: (code, cause) => this.connectionFailed(connection.id, code, cause),
      failureBytes: this.failureBytes,
      ...(this.inline && { runNow: buggyRunNow }),
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

async function start(model: ServerBase): Promise<RunningServer> {
  const running = await model.start();
  servers.push(running);
  return running;
}

/** Writes `text`, returns everything received until the server closes the connection. */
async function exchange(port: number, text: string): Promise<string> {
  const socket = createConnection({ port, host: '127.0.0.1' });
  clients.push(socket);
  let received = '';
  socket.setEncoding('latin1');
  socket.on('data', (d: string) => {
    received += d;
  });
  socket.on('error', () => {});
  await once(socket, 'connect');
  socket.write(text);
  await once(socket, 'close');
  return received;
}

/** A healthy request on a new connection, answered and closed by the `close` line. */
async function healthy(port: number): Promise<void> {
  expect(await exchange(port, 'ping\nclose\n')).toBe('ping\nclose\n');
}

describe('evented connections (loop, pool request mode)', () => {
  it('a session that throws: HTTP 500, close, counted, logged with its code; others keep being served', async () => {
    const model = new BuggyServer();
    const server = await start(model);
    const answer = await exchange(server.address.port, 'fine\nboom\n');
    expect(answer).toMatch(/^HTTP\/1\.1 500 Internal Server Error\r\n[\s\S]*Connection: close\r\n/);
    expect(server.stats().errors).toBe(1);
    expect(model.logged.map((e) => e.code)).toEqual(['IOLAB_SERVER_SESSION_FAILED']);
    expect(model.logged[0]!.message).toBe('TypeError: planted session bug');
    expect(model.logged[0]!.connectionId).toBe(1);
    await healthy(server.address.port);
  });

  it.each([
    ['throws', 'throw'],
    ['rejects', 'reject'],
  ])('a handler that %s: answered 500 in order, then the connection closes', async (_, line) => {
    const model = new BuggyServer();
    const server = await start(model);
    // `before` is answered first; the failed one in its place; the connection then ends.
    const answer = await exchange(server.address.port, `before\n${line}\n`);
    expect(answer).toBe('before\nerror 500\n');
    expect(server.stats().errors).toBe(1);
    expect(model.logged.map((e) => e.code)).toEqual(['IOLAB_SERVER_HANDLER_FAILED']);
    await healthy(server.address.port);
  });

  it('a handler that throws on the inline path: its 500 in request order, close once nothing is in flight', async () => {
    const model = new BuggyServer();
    model.inline = true;
    const server = await start(model);
    // `sleep 50` is still in flight when `throw` fails inline: the 500 waits behind it, `after` (already
    // received) is answered, and the connection closes only when the sleep is done.
    const answer = await exchange(server.address.port, 'before\nsleep 50\nthrow\nafter\n');
    expect(answer).toBe('before\nsleep\nerror 500\nafter\n');
    expect(server.stats().errors).toBe(1);
    expect(model.logged.map((e) => e.code)).toEqual(['IOLAB_SERVER_HANDLER_FAILED']);
    await healthy(server.address.port);
  });

  it('HTTP answered while parsing (runWhileParsing): a throwing handler is answered 500 in order, the rest of the pipeline too, then close', async () => {
    // The session runs the handler while parsing (the loop's path), so the model's wrapper must turn the
    // throw into the 500 and the close, as the Promise path does.
    class InlineHttpServer extends ServerBase {
      readonly logged: ConnectionFailedError[];
      constructor(logged: ConnectionFailedError[]) {
        super({ protocol: 'http', logConnectionFailure: (error) => logged.push(error) });
        this.logged = logged;
      }
      protected override serve(connection: Connection): void {
        const evented = serveEvented(connection.socket, createSession('http'), runOperation, {
          counters: this.counters,
          timeouts: { headerTimeoutMs: 0, idleTimeoutMs: 0 },
          onFailure: (code, cause) => this.connectionFailed(connection.id, code, cause),
          failureBytes: this.failureBytes,
          runWhileParsing: (op) => {
            if (op.kind === 'json') throw new RangeError('planted inline handler bug');
            return op.kind === 'sleep' ? undefined : runOperationSync(op, () => {});
          },
        });
        connection.drain = evented.drain;
      }
    }
    const model = new InlineHttpServer([]);
    const server = await start(model);
    const get = (path: string): string => `GET ${path} HTTP/1.1\r\nHost: a\r\n\r\n`;
    const answer = await exchange(
      server.address.port,
      get('/plaintext') + get('/sleep?ms=30') + get('/json') + get('/plaintext'),
    );
    const statuses = [...answer.matchAll(/HTTP\/1\.1 (\d+)/g)].map((m) => Number(m[1]));
    expect(statuses).toEqual([200, 200, 500, 200]);
    expect(server.stats().errors).toBe(1);
    expect(server.stats().requests).toBe(4);
    expect(model.logged.map((e) => e.code)).toEqual(['IOLAB_SERVER_HANDLER_FAILED']);
  });

  it('a model whose serve() throws: 500 and close for that connection, the listener carries on', async () => {
    const model = new BuggyServer();
    const server = await start(model);
    model.failServe = true;
    expect(await exchange(server.address.port, 'x\n')).toMatch(/^HTTP\/1\.1 500 /);
    expect(model.logged.map((e) => e.code)).toEqual(['IOLAB_SERVER_DISPATCH_FAILED']);
    model.failServe = false;
    await healthy(server.address.port);
    expect(server.stats().errors).toBe(1);
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
    return next === 'eof' || next === 'drain' || next === 'abort' ? next : new TextEncoder().encode(next);
  }
  write(bytes: Uint8Array): void {
    this.writes.push(decoder.decode(bytes));
  }
  close(): void {
    this.closed++;
  }
}

describe('blocking connections (bio, pool connection mode)', () => {
  const FAILURE = new TextEncoder().encode('500!');

  it('a session that throws: the failure bytes, close, counted and reported; the thread returns', () => {
    const io = new ScriptedIo(['ok\n', 'boom\n', 'never read\n']);
    const counters = new SharedCounters();
    const reported: string[] = [];
    const end = serveBlocking(new BuggySession(), io, () => {}, counters, undefined, undefined, {
      failureBytes: FAILURE,
      report: (code) => reported.push(code),
    });
    expect(end).toBe('failed');
    expect(io.writes).toEqual(['ok\n', '500!']);
    expect(io.closed).toBe(1);
    expect(counters.errors).toBe(1);
    expect(reported).toEqual(['IOLAB_SERVER_SESSION_FAILED']);
  });

  it('a handler that throws: answered 500 in order, counted and reported, then the connection closes', () => {
    // The sleeper is part of the handler (`sleep` runs it): one that throws is a throwing handler.
    const throwingSleep = (): void => {
      throw new Error('planted handler bug');
    };
    const io = new ScriptedIo(['a\n', 'sleep 1\n', 'never read\n']);
    const counters = new SharedCounters();
    const reported: string[] = [];
    const end = serveBlocking(new LineSession(), io, throwingSleep, counters, undefined, undefined, {
      failureBytes: FAILURE,
      report: (code) => reported.push(code),
    });
    expect(end).toBe('failed');
    expect(io.writes).toEqual(['a\n', 'error 500\n']);
    expect(io.closed).toBe(1);
    expect(counters.errors).toBe(1);
    expect(reported).toEqual(['IOLAB_SERVER_HANDLER_FAILED']);
  });
});
