/**
 * Worker-thread body of the reference server: a raw echo that records its own reads. It runs on its own
 * event loop so that its reads interleave with the client's writes the way a separate process's would
 * (in the client's thread, reads could only happen between the client's bursts).
 *
 * Messages in:  { type: 'configure', protocol, messageBytes, id }  → { type: 'configured', id }
 * Messages out: { type: 'listening', port } once, { type: 'view', clientPort, view } per closed connection.
 */

import type { AddressInfo } from 'node:net';
import { createServer, type Socket } from 'node:net';
import { parentPort } from 'node:worker_threads';
import type { WireProtocol } from './message-format.js';
import { StreamAnalyzer } from './stream-analyzer.js';

export type ToWorker =
  | {
      readonly type: 'configure';
      readonly protocol: WireProtocol;
      readonly messageBytes: number;
      readonly id: number;
    }
  | { readonly type: 'close' };
export type FromWorker =
  | { readonly type: 'listening'; readonly port: number }
  | { readonly type: 'configured'; readonly id: number }
  | { readonly type: 'view'; readonly clientPort: number; readonly view: ReturnType<StreamAnalyzer['end']> };

const port = parentPort;
if (port) {
  let protocol: WireProtocol = 'echo-lp';
  let messageBytes = 32;
  const sockets = new Set<Socket>();
  const post = (message: FromWorker): void => port.postMessage(message);

  const server = createServer((socket) => {
    sockets.add(socket);
    const analyzer = new StreamAnalyzer(protocol, messageBytes);
    const clientPort = socket.remotePort ?? 0;
    socket.on('data', (chunk: Buffer) => {
      analyzer.push(chunk);
      // A correct echo: stop reading while the client is not taking our writes.
      if (!socket.write(chunk)) {
        socket.pause();
        socket.once('drain', () => socket.resume());
      }
    });
    socket.on('error', () => {
      // The client destroys the connection once it has every byte; a reset here is expected.
    });
    socket.on('close', () => {
      sockets.delete(socket);
      post({ type: 'view', clientPort, view: analyzer.end() });
    });
  });
  server.listen(0, '127.0.0.1', () =>
    post({ type: 'listening', port: (server.address() as AddressInfo).port }),
  );
  port.on('message', (message: ToWorker) => {
    if (message.type === 'configure') {
      protocol = message.protocol;
      messageBytes = message.messageBytes;
      post({ type: 'configured', id: message.id });
    } else {
      for (const s of sockets) s.destroy();
      server.close(() => port.close());
    }
  });
}
