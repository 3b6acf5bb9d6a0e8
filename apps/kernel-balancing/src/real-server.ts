/**
 * A real server for the lab: `node real-server.js NAME PORT PROXY_PORT`. Answers every HTTP request with
 * `NAME <address it sees>\n`, so the client learns which server answered and which client address that
 * server saw. PROXY_PORT expects a PROXY v1/v2 header first and answers with the header's source address
 * instead: the row that shows a proxy handing the client address on.
 *
 * Prints `listening on 0.0.0.0:PORT` when both ports accept.
 */
import { createServer as createHttpServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createServer as createTcpServer, type Socket } from 'node:net';
import { parseProxyHeader } from '@iolab/balancer';

/** A PROXY header is at most 536 bytes (v2 with TLVs we never send); more without one is not a PROXY peer. */
const MAX_PROXY_HEADER_BYTES = 4096;
/** A peer that sends no complete header within this is dropped (slowloris on the header). */
const PROXY_HEADER_TIMEOUT_MS = 5_000;

const [name = 'rs', portText = '8080', proxyPortText = '8081'] = process.argv.slice(2);
const proxied = new WeakMap<Socket, string>();

function unmap(address: string | undefined): string {
  return (address ?? '?').replace(/^::ffff:/, '');
}

const http = createHttpServer((req: IncomingMessage, res: ServerResponse) => {
  const seen = proxied.get(req.socket) ?? unmap(req.socket.remoteAddress);
  const body = `${name} ${seen}\n`;
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) });
  res.end(body);
});
http.keepAliveTimeout = 60_000;
http.on('clientError', (_err, socket) => socket.destroy());

const proxyFront = createTcpServer((socket) => {
  socket.on('error', () => socket.destroy());
  let held = Buffer.alloc(0);
  const timer = setTimeout(() => socket.destroy(), PROXY_HEADER_TIMEOUT_MS);
  const onData = (chunk: Buffer): void => {
    held = Buffer.concat([held, chunk]);
    try {
      const r = parseProxyHeader(held);
      if (!r.done) {
        if (held.length > MAX_PROXY_HEADER_BYTES) socket.destroy();
        return;
      }
      clearTimeout(timer);
      socket.off('data', onData);
      proxied.set(
        socket,
        r.header.source ? `${unmap(r.header.source.address)} (PROXY v${r.header.version})` : 'local',
      );
      socket.pause();
      const rest = held.subarray(r.length);
      if (rest.length > 0) socket.unshift(rest);
      http.emit('connection', socket);
      socket.resume();
    } catch {
      socket.destroy();
    }
  };
  socket.on('data', onData);
});

let ready = 0;
const onListening = (): void => {
  if (++ready === 2) process.stdout.write(`listening on 0.0.0.0:${portText}\n`);
};
http.listen(Number(portText), '0.0.0.0', onListening);
proxyFront.listen(Number(proxyPortText), '0.0.0.0', onListening);
const stop = (): void => {
  http.closeAllConnections();
  http.close();
  proxyFront.close();
  setTimeout(() => process.exit(0), 200).unref();
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
