import { startBio } from '@iolab/server-bio';
import { createConnection } from 'node:net';
const server = await startBio({ protocol: 'http' });
const N = +process.argv[2];
const t0 = performance.now();
let done = 0; let firstAt = 0;
await Promise.all(Array.from({ length: N }, (_, i) => new Promise((resolve) => {
  const s = createConnection({ port: server.address.port, host: '127.0.0.1' });
  let text = '';
  s.on('data', (d) => { text += d; });
  s.on('error', (e) => { console.log('err', i, e.code); });
  s.on('close', () => { done++; if (!firstAt) firstAt = performance.now() - t0; if (!text.includes('200')) console.log('bad', i, JSON.stringify(text)); resolve(); });
  s.end('GET /plaintext HTTP/1.1\r\nHost: t\r\n\r\n');
})));
console.log(N, 'done', done, 'first', firstAt.toFixed(0), 'all', (performance.now() - t0).toFixed(0), server.stats());
await server.close(1000);
