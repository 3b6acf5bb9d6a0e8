// The floor a Node event loop allows for /plaintext: no parser, no routing, no session. Counts request
// heads (CRLFCRLF) in each 'data' chunk and writes one fixed response per head — the same bytes
// `iolab serve loop` sends. Assumes a head never straddles two reads, which holds for wrk's small GETs.
import { createServer } from 'node:net';

const RESPONSE = Buffer.from(
  'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, World!',
);
const server = createServer({ noDelay: true }, (socket) => {
  socket.on('data', (chunk) => {
    let heads = 0;
    for (let i = chunk.indexOf('\r\n\r\n'); i !== -1; i = chunk.indexOf('\r\n\r\n', i + 4)) heads++;
    socket.write(heads === 1 ? RESPONSE : Buffer.concat(Array(heads).fill(RESPONSE)));
  });
  socket.on('error', () => {});
});
server.listen(0, '127.0.0.1', () =>
  process.stdout.write(`listening on 127.0.0.1:${server.address().port}\n`),
);
process.on('SIGTERM', () => process.exit(0));
