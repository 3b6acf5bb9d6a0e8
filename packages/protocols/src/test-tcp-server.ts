// Test-only: the smallest real server model — one session per net.Socket on the event loop, ops run by
// runOperation — so tests can prove the session's bytes are valid on a real socket for real clients.

import net from 'node:net';
import { createSession } from './create-session.js';
import type { SessionLimits } from './limits.js';
import { runOperation } from './run-operation-async.js';
import type { ProtocolName, SessionOutput } from './session.js';

export interface TestServer {
  readonly port: number;
  readonly connections: () => number;
  close(): Promise<void>;
}

export async function startTestServer(protocol: ProtocolName, limits?: SessionLimits): Promise<TestServer> {
  let connections = 0;
  const sockets = new Set<net.Socket>();
  // allowHalfOpen: after the client's FIN we still owe it the replies in flight.
  const server = net.createServer({ allowHalfOpen: true }, (socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
    const session = createSession(protocol, limits);
    let done = false;
    const apply = (out: SessionOutput): void => {
      if (done) return;
      for (const bytes of out.send) socket.write(bytes);
      if (out.close) {
        done = true;
        socket.end();
        return;
      }
      for (const w of out.work) {
        runOperation(w.op).then((result) => apply(session.complete(w.id, result)));
      }
    };
    socket.on('data', (chunk) => apply(session.receive(chunk)));
    socket.on('end', () => apply(session.peerEnded()));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address() as net.AddressInfo;
  return {
    port: address.port,
    connections: () => connections,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Writes `chunks` (with a pause between them so they are separate reads), returns all bytes until close. */
export function rawExchange(port: number, chunks: readonly Uint8Array[], endAfter = false): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const received: Buffer[] = [];
    const socket = net.connect(port, '127.0.0.1');
    socket.setNoDelay(true);
    socket.on('data', (d) => received.push(d));
    socket.on('error', reject);
    socket.on('close', () => resolve(Buffer.concat(received)));
    socket.on('connect', async () => {
      for (const c of chunks) {
        socket.write(c);
        await new Promise((r) => setImmediate(r));
      }
      if (endAfter) socket.end();
    });
  });
}
