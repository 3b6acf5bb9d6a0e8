import { type AddressInfo, createServer, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { measureFirstAnswers } from './first-answers.js';
import { MAX_CONCURRENT_CONNECTS } from './framed-load-run.js';
import { driveSession } from './test-session-driver.js';

const servers: Server[] = [];
const sockets = new Set<Socket>();
const timers: NodeJS.Timeout[] = [];
afterEach(async () => {
  for (const t of timers.splice(0)) clearTimeout(t);
  for (const s of sockets) s.destroy();
  sockets.clear();
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

const HTTP_OK = 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, World!';

/** Tracks how many connections the server holds at once (a thread-per-connection server's thread count). */
interface Held {
  open: number;
  peak: number;
  accepted: number;
  /** `open` at each moment the server wrote an answer. */
  openAtAnswer: number[];
}

async function listen(
  onConnection: (socket: Socket, index: number) => void,
): Promise<{ port: number; held: Held }> {
  const held: Held = { open: 0, peak: 0, accepted: 0, openAtAnswer: [] };
  const server = createServer((socket) => {
    sockets.add(socket);
    held.open++;
    held.peak = Math.max(held.peak, held.open);
    socket.on('close', () => {
      held.open--;
      sockets.delete(socket);
    });
    socket.on('error', () => {});
    onConnection(socket, held.accepted++);
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen({ port: 0, host: '127.0.0.1', backlog: 1024 }, resolve));
  return { port: (server.address() as AddressInfo).port, held };
}

/** Answers each connection's first request only after `delayMs(index)`, like a thread that takes time to start. */
async function delayedHttp(delayMs: (index: number) => number | undefined) {
  const listening = await listen((socket, index) => {
    socket.once('data', () => {
      const delay = delayMs(index);
      if (delay === undefined) return; // never answers
      timers.push(
        setTimeout(() => {
          listening.held.openAtAnswer.push(listening.held.open);
          socket.write(HTTP_OK);
        }, delay),
      );
    });
  });
  return listening;
}

describe('measureFirstAnswers (HTTP)', () => {
  it('waits for the slowest connection, and holds all of them open at once', async () => {
    const delays = Array.from({ length: 20 }, (_, i) => 50 + 20 * i);
    const { port, held } = await delayedHttp((i) => delays[i]);
    const result = await measureFirstAnswers({
      host: '127.0.0.1',
      port,
      connections: 20,
      request: { kind: 'http', path: '/plaintext' },
      capSec: 10,
    });
    const slowest = Math.max(...delays);
    expect(result.answered).toBe(20);
    expect(result.failed).toBe(0);
    expect(result.errors).toEqual({});
    expect(result.allAnsweredMs).not.toBeNull();
    expect(result.allAnsweredMs as number).toBeGreaterThanOrEqual(slowest);
    expect(result.firstAnswerMs?.max).toBeGreaterThanOrEqual(slowest);
    expect(result.firstAnswerMs?.max).toBeLessThanOrEqual(result.allAnsweredMs as number);
    expect(result.firstAnswerMs?.p50).toBeLessThanOrEqual(result.firstAnswerMs?.p99 as number);
    expect(result.firstAnswerMs?.p50).toBeGreaterThanOrEqual(50);
    // Nobody was let go early: the slowest answer still went out with all 20 connections open.
    expect(held.peak).toBe(20);
    expect(held.openAtAnswer.at(-1)).toBe(20);
    expect(result.capSec).toBe(10);
  });

  it('stops at the cap when some connections never answer: allAnsweredMs null, the silent ones timed out', async () => {
    // Every third connection is never answered, like a server that could not start that many threads.
    const { port } = await delayedHttp((i) => (i % 3 === 2 ? undefined : 10));
    const started = performance.now();
    const result = await measureFirstAnswers({
      host: '127.0.0.1',
      port,
      connections: 12,
      request: { kind: 'http', path: '/' },
      capSec: 0.8,
    });
    const took = performance.now() - started;
    expect(result.allAnsweredMs).toBeNull();
    expect(result.answered).toBe(8);
    expect(result.failed).toBe(4);
    expect(result.errors).toEqual({ timeout: 4 });
    expect(result.answered).toBeLessThan(result.connections);
    expect(took).toBeGreaterThanOrEqual(790);
    expect(took).toBeLessThan(5000);
  });

  it('counts misbehaviour by cause instead of throwing: reset, close, wrong status, garbage', async () => {
    const { port } = await listen((socket, index) => {
      socket.once('data', () => {
        const kind = index % 5;
        if (kind === 0) socket.write(HTTP_OK);
        else if (kind === 1) socket.resetAndDestroy();
        else if (kind === 2) socket.end();
        else if (kind === 3) socket.write('HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n');
        else socket.write('SSH-2.0-nope\r\n\r\n');
      });
    });
    const result = await measureFirstAnswers({
      host: '127.0.0.1',
      port,
      connections: 10,
      request: { kind: 'http', path: '/' },
      capSec: 5,
    });
    expect(result.answered).toBe(2);
    expect(result.failed).toBe(8);
    expect(result.allAnsweredMs).toBeNull();
    expect(result.errors).toEqual({ ECONNRESET: 2, closed: 2, 'bad-status': 2, 'bad-answer': 2 });
  });

  it('a refused port fails every connection with ECONNREFUSED', async () => {
    const { port } = await listen(() => {});
    await new Promise((r) => (servers.pop() as Server).close(r));
    const result = await measureFirstAnswers({
      host: '127.0.0.1',
      port,
      connections: 3,
      request: { kind: 'http', path: '/' },
      capSec: 5,
    });
    expect(result).toMatchObject({ answered: 0, failed: 3, allAnsweredMs: null, firstAnswerMs: null });
    expect(result.errors).toEqual({ ECONNREFUSED: 3 });
  });

  it(`opens more than MAX_CONCURRENT_CONNECTS (${MAX_CONCURRENT_CONNECTS}) connections and holds them all`, async () => {
    const n = MAX_CONCURRENT_CONNECTS + 100;
    const { port, held } = await delayedHttp(() => 0);
    const result = await measureFirstAnswers({
      host: '127.0.0.1',
      port,
      connections: n,
      request: { kind: 'http', path: '/' },
      capSec: 20,
    });
    expect(result.answered).toBe(n);
    expect(held.peak).toBe(n);
  });

  it('an abort rejects with IOLAB_LOADGEN_ABORTED and closes every connection', async () => {
    const { port, held } = await delayedHttp(() => undefined);
    const controller = new AbortController();
    setTimeout(() => controller.abort(), 200);
    const err = await measureFirstAnswers({
      host: '127.0.0.1',
      port,
      connections: 5,
      request: { kind: 'http', path: '/' },
      capSec: 30,
      signal: controller.signal,
    }).catch((e: unknown) => e);
    expect((err as { code?: string }).code).toBe('IOLAB_LOADGEN_ABORTED');
    await new Promise((r) => setTimeout(r, 100));
    expect(held.open).toBe(0);
  });

  it('refuses bad options with IOLAB_LOADGEN_BAD_OPTION', () => {
    const base = { host: '127.0.0.1', port: 1, connections: 1, capSec: 1 } as const;
    expect(() =>
      measureFirstAnswers({ ...base, connections: 0, request: { kind: 'http', path: '/' } }),
    ).toThrow(/connections/);
    expect(() => measureFirstAnswers({ ...base, request: { kind: 'http', path: 'no-slash' } })).toThrow(
      /path/,
    );
    expect(() => measureFirstAnswers({ ...base, request: { kind: 'echo-lp', payloadBytes: 1e9 } })).toThrow(
      /payloadBytes/,
    );
  });
});

/** An echo-lp server running the real @iolab/protocols session, answering after a per-connection delay. */
function echoLpServer(delayMs: (index: number) => number) {
  return listen((socket, index) => {
    const receive = driveSession(socket, 'echo-lp');
    const delay = delayMs(index);
    socket.on('data', (chunk: Buffer) => {
      timers.push(setTimeout(() => !socket.destroyed && receive(chunk), delay));
    });
  });
}

describe('measureFirstAnswers (echo-lp)', () => {
  it('times one verified echo per connection against the real echo-lp session', async () => {
    const { port, held } = await echoLpServer((i) => 30 * i);
    const result = await measureFirstAnswers({
      host: '127.0.0.1',
      port,
      connections: 8,
      request: { kind: 'echo-lp', payloadBytes: 100 },
      capSec: 10,
    });
    expect(result.answered).toBe(8);
    expect(result.errors).toEqual({});
    expect(result.allAnsweredMs as number).toBeGreaterThanOrEqual(30 * 7);
    expect(held.peak).toBe(8);
  });

  it('an echo that is not the payload byte for byte is a bad answer', async () => {
    // Answers every connection with the payload of connection 0's request, as a server mixing up sockets would.
    let first: Buffer | undefined;
    const { port } = await listen((socket) => {
      socket.on('data', (chunk: Buffer) => {
        first ??= Buffer.from(chunk);
        const reply = Buffer.from(first);
        reply[4] = 0; // echo-lp STATUS_OK where the request had OP_ECHO: a well-formed reply, wrong payload
        socket.write(reply);
      });
    });
    const result = await measureFirstAnswers({
      host: '127.0.0.1',
      port,
      connections: 4,
      request: { kind: 'echo-lp', payloadBytes: 16 },
      capSec: 5,
    });
    // The connection whose payload it was gets a right answer; every other one a wrong echo.
    expect(result.answered).toBe(1);
    expect(result.errors).toEqual({ 'bad-answer': 3 });
  });
});
