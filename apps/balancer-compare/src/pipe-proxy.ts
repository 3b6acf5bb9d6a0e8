/**
 * The two node peers run with `node -e`: a naive proxy that `stream.pipeline`s each client to the next backend
 * (round-robin, no buffering policy of its own: the floor iolab must beat), and a node:http backend for
 * machines without nginx. Both print the `listening on HOST:PORT` line the harness waits for.
 */

/** `node -e NODE_BACKEND_SCRIPT <name>`: keep-alive HTTP, one small text body for any path. */
export const BACKEND_SCRIPT = `
const http = require('node:http');
const body = Buffer.from('hello from ' + process.argv[1] + '\\n');
const server = http.createServer((req, res) => {
  req.resume();
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length });
  res.end(body);
});
server.keepAliveTimeout = 60000;
server.listen(0, '127.0.0.1', () => {
  process.stdout.write('listening on 127.0.0.1:' + server.address().port + '\\n');
});
process.on('SIGTERM', () => process.exit(0));
`;

/** `node -e NAIVE_PROXY_SCRIPT host:port…`: a TCP proxy that pipes each connection to the next backend. */
export const NAIVE_PROXY_SCRIPT = `
const net = require('node:net');
const { pipeline } = require('node:stream');
const backends = process.argv.slice(1).map((a) => { const [h, p] = a.split(':'); return { host: h, port: Number(p) }; });
let next = 0;
const server = net.createServer((client) => {
  const target = backends[next++ % backends.length];
  const upstream = net.connect(target);
  pipeline(client, upstream, () => {});
  pipeline(upstream, client, () => {});
});
server.listen(0, '127.0.0.1', () => {
  process.stdout.write('listening on 127.0.0.1:' + server.address().port + '\\n');
});
process.on('SIGTERM', () => process.exit(0));
`;
