// Runs in a scratch project where only the packed tarballs are installed: what a user gets from npm.
// Decodes frames, then proxies one connection through createBalancer and one through the iolab-balancer bin.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { connect, createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { createBalancer } from '@iolab/balancer';
import { LineDecoder, lengthFieldCodec } from '@iolab/framing';

const deadline = setTimeout(() => {
  console.error('smoke: timed out');
  process.exit(1);
}, 30_000);

function check(cond, what) {
  if (!cond) throw new Error(`smoke: ${what}`);
  console.log(`ok  ${what}`);
}

// framing: one options object gives an encoder and a decoder that agree.
const { encoder, decoder } = lengthFieldCodec({ lengthFieldLength: 2 });
const wire = Buffer.concat(encoder.encode(Buffer.from('hello')).map((p) => Buffer.from(p)));
const out = [...decoder.push(wire.subarray(0, 3)), ...decoder.push(wire.subarray(3))];
check(out.length === 1 && Buffer.from(out[0]).toString() === 'hello', 'lengthFieldCodec round trip');
const lines = new LineDecoder({ encoding: 'utf8', emitTrailing: true });
const got = [...lines.push(Buffer.from('a\nb')), ...lines.end()];
check(JSON.stringify(got) === '["a","b"]', 'LineDecoder strings + trailing line');

// A backend that answers each connection with one line.
const backend = createServer((s) => s.end('pong\n'));
backend.listen(0, '127.0.0.1');
await once(backend, 'listening');
const backendPort = backend.address().port;

async function ask(port) {
  const s = connect(port, '127.0.0.1');
  const chunks = [];
  for await (const c of s) chunks.push(c);
  return Buffer.concat(chunks).toString();
}

const lb = createBalancer({
  listeners: [{ port: 0, pool: 'p' }],
  pools: [{ name: 'p', backends: [{ host: '127.0.0.1', port: backendPort }], health: { enabled: false } }],
  timeouts: { connect: '5s' },
});
const { addresses } = await lb.start();
check((await ask(addresses[0].port)) === 'pong\n', 'createBalancer proxies a connection');
await lb.close(1000);

// The bin as npm linked it, not through a shell or npx: what a supervisor would run.
const bin = fileURLToPath(new URL('./node_modules/.bin/iolab-balancer', import.meta.url));
const child = spawn(
  bin,
  [
    '--listen',
    '127.0.0.1:0',
    '--backend',
    `127.0.0.1:${backendPort}`,
    '--connect-timeout',
    '5s',
    '--no-health',
    '--log-level',
    'warn',
  ],
  {
    stdio: ['ignore', 'pipe', 'inherit'],
  },
);
let text = '';
child.stdout.setEncoding('utf8');
const port = await new Promise((resolve, reject) => {
  child.stdout.on('data', (d) => {
    text += d;
    const m = /listening on 127\.0\.0\.1:(\d+)/.exec(text);
    if (m) resolve(Number(m[1]));
  });
  child.on('exit', (code) => reject(new Error(`iolab-balancer exited ${code}`)));
});
check((await ask(port)) === 'pong\n', 'iolab-balancer proxies a connection');
child.kill('SIGTERM');
const [code] = await once(child, 'exit');
check(code === 0, 'iolab-balancer exits 0 on SIGTERM');
backend.close();
clearTimeout(deadline);
