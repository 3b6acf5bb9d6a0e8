/**
 * Every byte arrives unchanged and in order when the balancer's writes back up. The reply direction reads
 * into a buffer the session reuses (proxy-session.ts, `onread`), so a write left pending by a slow reader
 * must keep its bytes while the next read goes elsewhere; a mistake there shows up as corrupted data, not
 * as a hang, so this test sends data where every 4-byte word differs and compares digests.
 */

import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, connectClient, startBackend, startBalancer } from './test-support.js';

afterEach(cleanup);

const MIB = 1024 * 1024;
const STALL_EVERY = 2 * MIB;

/** `bytes` of data whose 4-byte little-endian words count up from `seed`: no two nearby chunks look alike. */
function pattern(bytes: number, seed: number): Buffer {
  const b = Buffer.allocUnsafe(bytes);
  for (let i = 0; i + 4 <= bytes; i += 4) b.writeUInt32LE((seed + i / 4) >>> 0, i);
  return b;
}

function sha256(b: Buffer): string {
  return createHash('sha256').update(b).digest('hex');
}

describe('forwarding: integrity under backpressure', () => {
  it('a reply read in stalls by the client arrives byte-exact; so does a large upload', async () => {
    const reply = pattern(24 * MIB + 3, 1);
    const upload = pattern(8 * MIB + 1, 7_000_000);
    const uploaded: Buffer[] = [];
    const backend = await startBackend('src', 'hold', (s) => {
      let uploadEnded = false;
      let replySent = false;
      s.on('data', (d: Buffer) => uploaded.push(d));
      s.on('end', () => {
        uploadEnded = true;
        if (replySent) s.end();
      });
      // Written in many small writes so the balancer sees many reads of different sizes.
      let off = 0;
      const pump = () => {
        while (off < reply.length) {
          const n = Math.min(reply.length - off, 1000 + (off % 7919));
          const ok = s.write(reply.subarray(off, off + n));
          off += n;
          if (!ok) {
            s.once('drain', pump);
            return;
          }
        }
        replySent = true;
        if (uploadEnded) s.end();
      };
      pump();
    });
    const { port } = await startBalancer({
      listeners: [{ port: 0, pool: 'p' }],
      pools: [
        { name: 'p', health: { enabled: false }, backends: [{ host: '127.0.0.1', port: backend.port }] },
      ],
    });

    const c = await connectClient(port);
    c.end(upload);
    const got: Buffer[] = [];
    let received = 0;
    let stalls = 0;
    await new Promise<void>((resolve, reject) => {
      c.on('data', (d: Buffer) => {
        got.push(d);
        received += d.length;
        // Stall every 2 MiB for long enough that the kernel's socket buffers fill (several MiB on
        // loopback), the balancer's client-side writes stay pending and its backend reads pause.
        if (Math.floor((received - d.length) / STALL_EVERY) !== Math.floor(received / STALL_EVERY)) {
          stalls += 1;
          c.pause();
          setTimeout(() => c.resume(), 60);
        }
      });
      c.once('end', () => resolve());
      c.once('error', reject);
    });
    expect(stalls).toBeGreaterThanOrEqual(10);
    const all = Buffer.concat(got);
    expect(all.length).toBe(reply.length);
    expect(sha256(all)).toBe(sha256(reply));
    const up = Buffer.concat(uploaded);
    expect(up.length).toBe(upload.length);
    expect(sha256(up)).toBe(sha256(upload));
  }, 30_000);
});
