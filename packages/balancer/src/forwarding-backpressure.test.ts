/**
 * A slow reader behind the balancer must not make it buffer: the balancer runs in a child process so its
 * RSS is its own, a backend writes as fast as TCP lets it, the client reads at a fixed slow rate.
 *
 * Default: 256 MiB at 48 MiB/s (≈ 6 s). The 1 GiB at a few MiB/s is env-gated because it takes
 * minutes: `IOLAB_BALANCER_SLOW_READER_MIB=1024 IOLAB_BALANCER_SLOW_READER_MIBPS=8 npx vitest run
 * src/forwarding-backpressure.test.ts`.
 */

import { afterEach, describe, expect, it } from 'vitest';
import { cleanup, connectClient, sleep, startBackend, startChildBalancer } from './test-support.js';

afterEach(cleanup);

const MIB = 1024 * 1024;
const TOTAL_MIB = Number(process.env.IOLAB_BALANCER_SLOW_READER_MIB ?? 256);
const RATE_MIBPS = Number(process.env.IOLAB_BALANCER_SLOW_READER_MIBPS ?? 48);
/**
 * Growth allowed over the idle balancer's RSS. Measured: a 98↔109 MiB sawtooth over a 75 MiB baseline —
 * 64 KiB read buffers awaiting GC — whatever the total moved; unbounded buffering would add ~TOTAL_MIB.
 */
const RSS_GROWTH_LIMIT = 48 * MIB;
/** "Flat": the last third of the run may not peak higher than the first third plus this. */
const RSS_TREND_LIMIT = 12 * MIB;

describe('forwarding: backpressure', () => {
  it(
    `a slow reader draining ${TOTAL_MIB} MiB at ${RATE_MIBPS} MiB/s keeps the balancer's RSS flat`,
    async () => {
      const total = TOTAL_MIB * MIB;
      const chunk = Buffer.alloc(256 * 1024, 0x5a);
      const backend = await startBackend('src', 'hold', (s) => {
        let sent = 0;
        const pump = () => {
          while (sent < total) {
            sent += chunk.length;
            if (!s.write(chunk)) {
              s.once('drain', pump);
              return;
            }
          }
          s.end();
        };
        pump();
        s.resume();
      });
      const lb = await startChildBalancer({
        listeners: [{ port: 0, pool: 'p' }],
        pools: [
          { name: 'p', health: { enabled: false }, backends: [{ host: '127.0.0.1', port: backend.port }] },
        ],
      });
      await sleep(300);
      const baseline = lb.rss();
      expect(baseline).toBeGreaterThan(0);

      const c = await connectClient(lb.port);
      const firstSample = lb.samples.length;
      let received = 0;
      const t0 = performance.now();
      // Token bucket: read at most RATE per second, pausing the socket in between.
      await new Promise<void>((resolve, reject) => {
        c.on('data', (d: Buffer) => {
          received += d.length;
          const allowed = ((performance.now() - t0) / 1000) * RATE_MIBPS * MIB;
          if (received > allowed) {
            c.pause();
            setTimeout(() => c.resume(), Math.ceil(((received - allowed) / (RATE_MIBPS * MIB)) * 1000));
          }
        });
        c.once('end', () => resolve());
        c.once('error', reject);
      });
      const seconds = (performance.now() - t0) / 1000;
      expect(received).toBe(total);
      const growth = lb.maxRss() - baseline;
      const during = lb.samples.slice(firstSample).map((x) => Math.round(x / MIB));
      console.log(`RSS samples (MiB): ${during.join(' ')}`);
      console.log(
        `slow reader: ${TOTAL_MIB} MiB in ${seconds.toFixed(1)} s; balancer RSS baseline ` +
          `${(baseline / MIB).toFixed(1)} MiB, max ${(lb.maxRss() / MIB).toFixed(1)} MiB (+${(growth / MIB).toFixed(1)})`,
      );
      // The reader really was slow (else the test proves nothing about buffering).
      expect(seconds).toBeGreaterThan((TOTAL_MIB / RATE_MIBPS) * 0.8);
      expect(growth).toBeLessThan(RSS_GROWTH_LIMIT);
      const third = Math.floor(during.length / 3);
      const firstPeak = Math.max(...during.slice(0, third)) * MIB;
      const lastPeak = Math.max(...during.slice(-third)) * MIB;
      expect(lastPeak - firstPeak).toBeLessThan(RSS_TREND_LIMIT);
    },
    Math.max(60_000, (TOTAL_MIB / RATE_MIBPS) * 3000),
  );
});
