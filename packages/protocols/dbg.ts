import { HttpServerSession } from './src/http/server-session.ts';
import { ascii, drive } from './src/test-session-driver.ts';

const P = ascii('GET /plaintext HTTP/1.1\r\nHost: a\r\nUser-Agent: x\r\nAccept: */*\r\n\r\n'.repeat(16));
for (let round = 0; round < 4; round++) {
  const t = performance.now();
  for (let i = 0; i < 3000; i++) drive(new HttpServerSession(), [P]);
  const ms = performance.now() - t;
  console.log(`${((48000 / ms) * 1000).toFixed(0)} req/s`);
}
