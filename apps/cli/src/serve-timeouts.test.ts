/**
 * Header and idle timeouts on every model, through the real `iolab serve` command and raw `net` clients:
 * slow-header clients (one byte a second) are answered 408 and closed at the header timeout while a
 * normal client keeps being answered; silent keep-alive connections give a connection-mode pool's
 * threads back at the idle timeout. Run `npm run build` first.
 */
import { once } from 'node:events';
import { createConnection, type Socket } from 'node:net';
import { findTransferCapableNode } from '@iolab/server-core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type ServeProcess, serve, stopAll, until } from './test-serve-process.js';

// bio starts a thread per slow client (200 of them) before that thread can see its deadline passed:
// seconds on a quiet 2-core machine, far more on a loaded one. The bounds below are for the latter.
vi.setConfig({ testTimeout: 240_000 });
const ALL_CLOSED_WITHIN_MS = 180_000;

const HEADER_TIMEOUT_MS = 1500;
const SLOW_CLIENTS = 200;
/** The slow clients' bytes: a request head that would take ~40 s to finish at one byte a second. */
const SLOW_HEAD = 'GET /plaintext HTTP/1.1\r\nHost: slow.example\r\nX-Pad: aaaaaaaa\r\n\r\n';

const sockets = new Set<Socket>();
const timers = new Set<NodeJS.Timeout>();
afterEach(() => {
  for (const t of timers) clearInterval(t);
  timers.clear();
  for (const s of sockets) s.destroy();
  sockets.clear();
  stopAll();
});

interface Peer {
  readonly socket: Socket;
  /** Just before connecting: the server cannot have accepted earlier. */
  readonly startedAt: number;
  closedAt: number | undefined;
  text: string;
}

async function open(port: number): Promise<Peer> {
  const startedAt = performance.now();
  const socket = createConnection({ host: '127.0.0.1', port });
  sockets.add(socket);
  const peer: Peer = { socket, startedAt, closedAt: undefined, text: '' };
  socket.setEncoding('latin1');
  socket.on('data', (d: string) => {
    peer.text += d;
  });
  socket.on('error', () => {});
  socket.once('close', () => {
    peer.closedAt = performance.now();
  });
  await once(socket, 'connect');
  return peer;
}

/** Writes one byte of the head a second, like a slowloris client; stops when the socket closes. */
function trickle(peer: Peer): void {
  let at = 0;
  const write = (): void => {
    if (peer.socket.destroyed || peer.closedAt !== undefined) return;
    peer.socket.write(SLOW_HEAD[at++ % SLOW_HEAD.length]!);
  };
  write();
  const timer = setInterval(write, 1000);
  timers.add(timer);
  peer.socket.once('close', () => clearInterval(timer));
}

const statuses = (text: string): string[] => [...text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => m[1]!);

const MODELS: readonly (readonly string[])[] = [
  ['bio', '--socket', 'relay'],
  ['pool', '--mode', 'connection', '--threads', '4', '--socket', 'relay'],
  ['pool', '--mode', 'request', '--threads', '2'],
  ['loop'],
  ['node-http'],
];

// The owned-socket variants run under a Node that can transfer sockets (see serve-socket-modes.test.ts).
const found = await findTransferCapableNode();
if ('reason' in found) console.warn(`owned-socket timeout tests skipped: ${found.reason}`);
const OWNED: readonly (readonly string[])[] =
  'path' in found
    ? [
        ['bio', '--socket', 'owned', '--node', found.path],
        ['pool', '--mode', 'connection', '--threads', '4', '--socket', 'owned', '--node', found.path],
      ]
    : [];

describe.each([...MODELS, ...OWNED])('--header-timeout on %s', (...model) => {
  it(`closes ${SLOW_CLIENTS} one-byte-a-second clients with 408 at the header timeout while a normal client is served`, async () => {
    const server: ServeProcess = await serve([
      ...model,
      '--header-timeout',
      String(HEADER_TIMEOUT_MS),
      '--idle-timeout',
      '60000',
    ]);
    // The normal client connects first: in the thread models it then holds a thread of its own.
    const normal = await open(server.port);
    let answered = 0;
    const ask = (): void => {
      normal.socket.write('GET /plaintext HTTP/1.1\r\nHost: t\r\n\r\n');
    };
    normal.socket.on('data', () => {
      const n = statuses(normal.text).length;
      if (n > answered) {
        answered = n;
        setTimeout(ask, 50);
      }
    });
    ask();
    await until('the normal client to be served', () => answered >= 1, 30_000);

    const slow = await Promise.all(Array.from({ length: SLOW_CLIENTS }, () => open(server.port)));
    for (const peer of slow) trickle(peer);
    const answeredBefore = answered;
    // 1.5 s timeout: every slow client is closed well before its head could ever complete (~60 s).
    await until(
      'every slow client to be closed',
      () => slow.every((p) => p.closedAt !== undefined),
      ALL_CLOSED_WITHIN_MS,
    );

    for (const peer of slow) {
      // Not before the deadline, which counts from accept (50 ms for clock granularity across processes)…
      expect(peer.closedAt! - peer.startedAt).toBeGreaterThanOrEqual(HEADER_TIMEOUT_MS - 50);
      // …and with a 408 (node:http included).
      expect(statuses(peer.text)).toEqual(['408']);
    }
    // The normal client kept being answered all along, and still is.
    expect(answered).toBeGreaterThan(answeredBefore);
    const now = answered;
    await until('one more normal answer', () => answered > now, 10_000);
    expect(statuses(normal.text).every((s) => s === '200')).toBe(true);
    await until(
      'the stats line to count the timeouts',
      () => (server.stats()?.headerTimeouts ?? 0) >= SLOW_CLIENTS,
      5_000,
    );
  });
});

describe('--idle-timeout', () => {
  it('four silent keep-alive connections no longer hold a 4-thread connection-mode pool past it', async () => {
    const server = await serve(['pool', '--mode', 'connection', '--threads', '4', '--idle-timeout', '1000']);
    const silent = await Promise.all(Array.from({ length: 4 }, () => open(server.port)));
    for (const peer of silent) peer.socket.write('GET /plaintext HTTP/1.1\r\nHost: t\r\n\r\n');
    await until('four answers', () => silent.every((p) => statuses(p.text).length === 1), 20_000);
    // Every thread now sits in a blocked read on a silent connection; a fifth client waits in the queue.
    const fifth = await open(server.port);
    const asked = performance.now();
    fifth.socket.write('GET /plaintext HTTP/1.1\r\nHost: t\r\n\r\n');
    await until('the fifth client to be answered', () => statuses(fifth.text).length === 1, 15_000);
    const waited = performance.now() - asked;
    expect(statuses(fifth.text)).toEqual(['200']);
    expect(waited).toBeGreaterThanOrEqual(500); // it really waited for an idle timeout…
    // …which closed the silent ones quietly (no 408).
    await until('the silent ones to be closed', () => silent.every((p) => p.closedAt !== undefined), 5_000);
    for (const peer of silent) expect(statuses(peer.text)).toEqual(['200']);
    await until(
      'the stats to count four idle timeouts',
      () => (server.stats()?.idleTimeouts ?? 0) >= 4,
      5_000,
    );
  });

  it.each(MODELS)('closes an idle keep-alive connection on %s', async (...model) => {
    const server = await serve([...model, '--idle-timeout', '800']);
    const peer = await open(server.port);
    peer.socket.write('GET /plaintext HTTP/1.1\r\nHost: t\r\n\r\n');
    await until('the answer', () => statuses(peer.text).length === 1, 20_000);
    const answeredAt = performance.now();
    await until('the idle close', () => peer.closedAt !== undefined, 15_000);
    expect(peer.closedAt! - answeredAt).toBeGreaterThanOrEqual(600);
    expect(statuses(peer.text)).toEqual(['200']);
    await until('the stats to count it', () => (server.stats()?.idleTimeouts ?? 0) >= 1, 5_000);
  });
});
