import { once } from 'node:events';
import { createConnection, type Socket } from 'node:net';
import { until } from '@iolab/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { InvalidServerOptionError } from './errors.js';
import { serveEvented } from './serve-evented.js';
import { type Connection, type RunningServer, ServerBase, type ServerOptions } from './server-base.js';
import { LineSession, runLineOp } from './test-line-session.js';

/** The smallest model: line sessions on the event loop, refusing beyond `cap` open connections. */
class LineServer extends ServerBase {
  readonly sockets: Socket[] = [];
  #open = 0;
  constructor(
    options: Omit<ServerOptions, 'protocol'>,
    readonly cap = Number.POSITIVE_INFINITY,
    idleTimeoutMs = 0,
  ) {
    super({ headerTimeoutMs: 0, idleTimeoutMs, ...options, protocol: 'echo-line' });
  }
  protected override serve(connection: Connection): void {
    if (this.#open >= this.cap) {
      this.refuse(connection.socket);
      return;
    }
    this.#open++;
    connection.socket.once('close', () => this.#open--);
    this.sockets.push(connection.socket);
    const evented = serveEvented(connection.socket, new LineSession(), runLineOp, {
      counters: this.counters,
      timeouts: this.timeouts,
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

async function start(server: LineServer): Promise<RunningServer> {
  const running = await server.start();
  servers.push(running);
  return running;
}

async function client(port: number): Promise<Socket & { text: () => string }> {
  const socket = createConnection({ port, host: '127.0.0.1' });
  clients.push(socket);
  let text = '';
  socket.setEncoding('utf8');
  socket.on('data', (d: string) => {
    text += d;
  });
  socket.on('error', () => {});
  await once(socket, 'connect');
  return Object.assign(socket, { text: () => text });
}

describe('ServerBase lifecycle', () => {
  it('listens on a kernel-chosen port, serves, and counts connections, peak and requests', async () => {
    const server = await start(new LineServer({}));
    expect(server.address.port).toBeGreaterThan(0);
    const a = await client(server.address.port);
    const b = await client(server.address.port);
    a.write('one\ntwo\n');
    b.write('three\n');
    await until(() => a.text() === 'one\ntwo\n' && b.text() === 'three\n', 'answers');
    expect(server.stats()).toMatchObject({ connections: 2, peakConnections: 2, requests: 3, refused: 0 });
    a.destroy();
    await until(() => server.stats().connections === 1, 'close to be seen');
    expect(server.stats().peakConnections).toBe(2);
    expect(server.stats().rssBytes).toBeGreaterThan(1024 * 1024);
  });

  it('close() answers in-flight requests, closes idle connections, and stops accepting', async () => {
    const server = await start(new LineServer({}));
    const busy = await client(server.address.port);
    const idle = await client(server.address.port);
    busy.write('sleep 300\n');
    await until(() => server.stats().connections === 2, 'both connections');
    await new Promise((r) => setTimeout(r, 50)); // let the request reach the session: then it is in flight
    const idleClosed = once(idle, 'close');
    const busyClosed = once(busy, 'close');
    const closing = server.close(5000);
    await idleClosed;
    expect(busy.text()).toBe('');
    await busyClosed;
    expect(busy.text()).toBe('sleep\n');
    await closing;
    const late = createConnection({ port: server.address.port, host: '127.0.0.1' });
    clients.push(late);
    const [err] = (await once(late, 'error')) as [NodeJS.ErrnoException];
    expect(err.code).toBe('ECONNREFUSED');
  });

  it('close(deadline) destroys connections whose work outlasts the deadline', async () => {
    const server = await start(new LineServer({}));
    const stuck = await client(server.address.port);
    stuck.write('sleep 5000\n');
    await until(() => server.stats().connections === 1, 'connection');
    const t0 = Date.now();
    await server.close(100);
    expect(Date.now() - t0).toBeLessThan(3000);
    await until(() => stuck.destroyed, 'client to see the close');
    expect(stuck.text()).toBe('');
  });

  it('refuses beyond a model cap, counts it, and keeps serving', async () => {
    const server = await start(new LineServer({}, 1));
    const first = await client(server.address.port);
    const second = await client(server.address.port);
    await once(second, 'close');
    expect(server.stats().refused).toBe(1);
    first.write('still here\n');
    await until(() => first.text() === 'still here\n', 'answer after refusal');
  });

  it('closes a connection idle longer than the idle timeout, not one with work in flight', async () => {
    const server = await start(new LineServer({}, Number.POSITIVE_INFINITY, 150));
    const idle = await client(server.address.port);
    const working = await client(server.address.port);
    working.write('sleep 400\n');
    await once(idle, 'close');
    await until(() => working.text() === 'sleep\n', 'slow answer');
  });

  it('stops reading from a peer that does not read its answers (backpressure)', async () => {
    const model = new LineServer({});
    const server = await start(model);
    const greedy = await client(server.address.port);
    greedy.pause();
    greedy.removeAllListeners('data');
    const line = `${'x'.repeat(64 * 1024)}\n`;
    // Keep 8 MB queued on the client: more than the kernel buffers on both sides can absorb.
    const feed = setInterval(() => {
      while (greedy.writableLength < 8 * 1024 * 1024) greedy.write(line);
    }, 10);
    try {
      await until(() => model.sockets[0]?.isPaused() === true, 'the server to pause reading');
      await new Promise((r) => setTimeout(r, 300));
      const readBefore = model.sockets[0]!.bytesRead;
      await new Promise((r) => setTimeout(r, 300));
      expect(model.sockets[0]!.bytesRead).toBe(readBefore);
      expect(model.sockets[0]!.isPaused()).toBe(true);
    } finally {
      clearInterval(feed);
    }
  });

  it('rejects bad options with a stable code', () => {
    expect(() => new LineServer({ port: 70000 })).toThrow(InvalidServerOptionError);
    expect(() => new LineServer({ drainTimeoutMs: -1 })).toThrow(/drainTimeoutMs/);
  });
});
