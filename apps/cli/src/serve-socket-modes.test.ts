/**
 * `--socket relay|owned|auto` on bio and pool connection mode, through the real `iolab serve` command:
 * relay on every Node; owned under a Node that can transfer sockets — this one, or the one
 * `findTransferCapableNode()` finds or installs into the cache (IOLAB_NODE picks another; with
 * IOLAB_NODE_INSTALL=0 and none found, the owned tests are skipped with the reason). Run `npm run build` first.
 */
import { once } from 'node:events';
import { createConnection, type Socket } from 'node:net';
import { findTransferCapableNode, socketTransferSupported } from '@iolab/server-core';
import { responseWithBody, untilValue } from '@iolab/testkit';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type ServeProcess, serve, stopAll, until } from './test-serve-process.js';

vi.setConfig({ testTimeout: 60_000 });

const found = await findTransferCapableNode();
const transferNode = 'path' in found ? found.path : undefined;
if ('reason' in found) {
  console.warn(`owned-socket tests skipped: no Node that can transfer sockets (${found.reason})`);
}
const hereSupported = await socketTransferSupported();

const sockets = new Set<Socket>();
afterEach(() => {
  for (const s of sockets) s.destroy();
  sockets.clear();
  stopAll();
});

interface Peer {
  readonly socket: Socket;
  text(): string;
  readonly closed: Promise<void>;
}

async function open(port: number): Promise<Peer> {
  const socket = createConnection({ host: '127.0.0.1', port });
  sockets.add(socket);
  let text = '';
  socket.setEncoding('latin1');
  socket.on('data', (d: string) => {
    text += d;
  });
  socket.on('error', () => {});
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  await once(socket, 'connect');
  return { socket, text: () => text, closed };
}

const get = (path: string): string => `GET ${path} HTTP/1.1\r\nHost: t\r\n\r\n`;
const statuses = (text: string): string[] => [...text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => m[1]!);

/** The behaviour both modes must share, whoever owns the socket. */
async function servesLikeAServer(server: ServeProcess): Promise<void> {
  const c = await open(server.port);
  // Three pipelined requests in one write, answered in order on the connection's one thread.
  c.socket.write(get('/sleep?ms=50') + get('/plaintext') + get('/json'));
  await until('three answers', () => statuses(c.text()).length === 3, 20_000);
  expect(statuses(c.text())).toEqual(['200', '200', '200']);
  expect(c.text().indexOf('Hello, World!')).toBeLessThan(c.text().indexOf('{"message"'));
  // A 256 KiB body in and out, across many reads and writes.
  const body = Buffer.alloc(256 * 1024, 'abcdefghij');
  const answeredBefore = c.text().length;
  c.socket.write(`POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: ${body.length}\r\n\r\n`);
  c.socket.write(body);
  // The echo's head and whole body, after the three answers above (a CI run of 7d772ec met a wait on the
  // text's length alone passing with the echo's tail still in flight).
  const echo = await untilValue(
    () => responseWithBody(c.text(), body.length, answeredBefore),
    'the echo',
    20_000,
  );
  expect(statuses(echo.head)).toEqual(['200']);
  expect(echo.body).toBe(body.toString('latin1'));
}

const MODELS: readonly (readonly string[])[] = [['bio'], ['pool', '--mode', 'connection', '--threads', '2']];

describe.each(MODELS)('%s --socket relay (any Node)', (...model) => {
  it('relays, says so in the stats line, and serves', async () => {
    const server = await serve([...model, '--socket', 'relay']);
    await servesLikeAServer(server);
    await until('stats', () => server.stats()?.socketMode === 'relay', 5_000);
  });

  it(`--socket auto picks ${hereSupported ? 'owned' : 'relay'} on this Node (${process.version})`, async () => {
    const server = await serve([...model]);
    await until('stats', () => server.stats() !== undefined, 5_000);
    expect(server.stats()?.socketMode).toBe(hereSupported ? 'owned' : 'relay');
  });

  it.skipIf(hereSupported)(
    '--socket owned is refused with exit 2 on a Node that cannot transfer sockets',
    async () => {
      await expect(serve([...model, '--socket', 'owned'])).rejects.toThrow(
        /exited with 2.*cannot transfer a socket/s,
      );
    },
  );
});

describe.skipIf(transferNode === undefined).each(MODELS)(
  '%s --socket owned (transfer-capable Node)',
  (...model) => {
    const node = transferNode!;

    it('threads own their sockets, say so, and serve', async () => {
      const server = await serve([...model, '--socket', 'owned'], node);
      await servesLikeAServer(server);
      await until('stats', () => server.stats()?.socketMode === 'owned', 5_000);
      expect(server.stats()?.errors).toBe(0);
    });

    it('the owning thread answers a late head with 408 and closes an idle connection', async () => {
      const server = await serve([...model, '--header-timeout', '800', '--idle-timeout', '800'], node);
      const slow = await open(server.port);
      slow.socket.write('GET /plain');
      const idle = await open(server.port);
      idle.socket.write(get('/plaintext'));
      await slow.closed;
      expect(statuses(slow.text())).toEqual(['408']);
      await idle.closed;
      expect(statuses(idle.text())).toEqual(['200']);
      await until(
        'timeouts counted',
        () => {
          const s = server.stats();
          return s !== undefined && s.headerTimeouts >= 1 && s.idleTimeouts >= 1;
        },
        5_000,
      );
    });

    it('SIGTERM lets an in-flight request finish on its thread, then exits 0', async () => {
      const server = await serve([...model, '--socket', 'owned'], node);
      const c = await open(server.port);
      c.socket.write(get('/sleep?ms=600'));
      await until(
        'the thread to pick the request up',
        () => (server.stats()?.connections ?? 0) === 1,
        10_000,
      );
      await new Promise((resolve) => setTimeout(resolve, 100));
      const exited = once(server.child, 'exit');
      server.child.kill('SIGTERM');
      const [code] = (await exited) as [number | null];
      expect(statuses(c.text())).toEqual(['200']);
      expect(code).toBe(0);
    });
  },
);

describe.skipIf(transferNode === undefined || transferNode === process.execPath)('--node', () => {
  it('re-runs the server under the given binary, which then owns its sockets', async () => {
    const server = await serve(['bio', '--node', transferNode!]);
    const c = await open(server.port);
    c.socket.write(get('/plaintext'));
    await until('an answer', () => statuses(c.text()).length === 1, 20_000);
    await until('stats', () => server.stats()?.socketMode === 'owned', 5_000);
  });
});
