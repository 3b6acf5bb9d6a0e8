/**
 * A raw HTTP/1.1 client for tests: bytes written exactly as given (pipelined, malformed, split), everything
 * received kept as latin1 text. No parser of ours is involved, so a test of our server cannot be fooled by
 * a matching bug in our client.
 */
import { once } from 'node:events';
import { createConnection, type Socket } from 'node:net';
import type { Cleanup } from './cleanup.js';

export interface RawConnection {
  readonly socket: Socket;
  /** Everything received so far, as latin1 (one char per byte). */
  text(): string;
  /** Writes bytes or a latin1 string as they are. */
  send(data: string | Uint8Array): void;
  /** Resolves once the peer has closed (or the socket errored). */
  readonly closed: Promise<void>;
}

/** Opens a connection to `host:port` (default 127.0.0.1); registered with `cleanup` when given. */
export async function rawConnect(
  port: number,
  cleanup?: Cleanup,
  host = '127.0.0.1',
): Promise<RawConnection> {
  const socket = createConnection({ port, host });
  cleanup?.defer(() => {
    socket.destroy();
  });
  let received = '';
  socket.setEncoding('latin1');
  socket.on('data', (chunk: string) => {
    received += chunk;
  });
  // A reset is part of what a test may provoke; it shows as `closed`, never as an unhandled error.
  socket.on('error', () => {});
  const closed = once(socket, 'close').then(() => undefined);
  await once(socket, 'connect');
  return {
    socket,
    text: () => received,
    send: (data) => {
      socket.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data);
    },
    closed,
  };
}

/** A minimal GET request (keep-alive by default, as HTTP/1.1 is). */
export function get(path: string, headers: Readonly<Record<string, string>> = {}): string {
  const lines = [`GET ${path} HTTP/1.1`, 'Host: t', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  return `${lines.join('\r\n')}\r\n\r\n`;
}

/** The status codes of every response head in `text`, in order. */
export function statuses(text: string): number[] {
  return [...text.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));
}

/**
 * The response in `text` from `from` on, once its head and at least `bodyLength` bytes after it are in;
 * undefined before. For a test waiting on a large body: the received text's length alone also counts
 * the head and any earlier answers, so it can reach the body's length with the tail still in flight.
 * `body` is everything after the head, so bytes beyond `bodyLength` show up in a comparison.
 */
export function responseWithBody(
  text: string,
  bodyLength: number,
  from = 0,
): { head: string; body: string } | undefined {
  const headEnd = text.indexOf('\r\n\r\n', from);
  if (headEnd === -1 || text.length - headEnd - 4 < bodyLength) return undefined;
  return { head: text.slice(from, headEnd), body: text.slice(headEnd + 4) };
}
