/**
 * 5,000 concurrent proxied connections, all open at once. The balancer runs in a child process; this process
 * holds the 5,000 client and 5,000 backend sockets. Each process needs > 10,000 fds, and a process cannot
 * raise its own hard limit, so the suite needs `ulimit -n` >= 12000 (CI: 65535) and skips otherwise.
 * Also: the balancer survives fd exhaustion (EMFILE) and serves again once fds free up.
 */

import type { Socket } from 'node:net';
import { until } from '@iolab/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import {
  cleanup,
  connectClient,
  openFileLimit,
  readAll,
  readLine,
  sleep,
  startBackend,
  startChildBalancer,
} from './test-support.js';

afterEach(cleanup);

const CONNECTIONS = 5000;
const NEEDED_FDS = 12_000;
const limit = await openFileLimit();
const enoughFds = limit !== undefined && limit >= NEEDED_FDS;

describe('forwarding: many connections', () => {
  it.skipIf(!enoughFds)(
    `${CONNECTIONS} concurrent proxied connections each get their own bytes back (needs ulimit -n >= ${NEEDED_FDS}; have ${limit})`,
    async () => {
      const backend = await startBackend('echo', 'echo');
      const lb = await startChildBalancer({
        listeners: [{ port: 0, pool: 'p', backlog: 4096 }],
        pools: [
          { name: 'p', health: { enabled: false }, backends: [{ host: '127.0.0.1', port: backend.port }] },
        ],
      });
      const clients: Socket[] = [];
      // Connect in batches so the listen backlog never overflows (a SYN retry would cost a second).
      for (let i = 0; i < CONNECTIONS; i += 500) {
        const batch = await Promise.all(
          Array.from({ length: Math.min(500, CONNECTIONS - i) }, () => connectClient(lb.port)),
        );
        clients.push(...batch);
      }
      await until(() => backend.sockets.size === CONNECTIONS, `${CONNECTIONS} backend connections`, 20_000);
      // All open at once: now every client talks, and every reply must be its own.
      const replies = clients.map((c, i) => {
        c.write(`hello-${i}\n`);
        return readLine(c);
      });
      const got = await Promise.all(replies);
      expect(got.every((line, i) => line === `hello-${i}`)).toBe(true);
      expect(backend.sockets.size).toBe(CONNECTIONS);
      for (const c of clients) c.end();
      await until(() => lb.ends().count === CONNECTIONS, 'every connection-end', 20_000);
      expect(lb.ends().reasons).toEqual({ end: CONNECTIONS });
    },
    60_000,
  );

  it('EMFILE: a balancer out of file descriptors keeps running and serves again when fds free up', async () => {
    const backend = await startBackend('echo', 'echo');
    const FD_LIMIT = 120; // node itself holds ~30; each proxied connection needs 2
    const lb = await startChildBalancer(
      {
        listeners: [{ port: 0, pool: 'p' }],
        pools: [
          { name: 'p', health: { enabled: false }, backends: [{ host: '127.0.0.1', port: backend.port }] },
        ],
      },
      FD_LIMIT,
    );
    const clients: Socket[] = [];
    for (let i = 0; i < 150; i++) {
      const c = await connectClient(lb.port).catch(() => undefined);
      if (c) {
        c.on('error', () => {});
        clients.push(c);
      }
    }
    // At the limit the kernel's backlog is shed (libuv accepts and closes with its reserve fd, so Node
    // does not even see an error): the excess clients are closed, the established ones keep working.
    await until(() => clients.some((c) => c.readableEnded || c.closed), 'excess clients to be shed', 5000);
    const established = clients.filter((c) => !(c.readableEnded || c.closed));
    expect(established.length).toBeGreaterThan(10);
    expect(established.length).toBeLessThan(clients.length);
    established[0]!.write('still-working\n');
    expect(await readLine(established[0]!)).toBe('still-working');
    expect(lb.child.exitCode).toBe(null);
    for (const c of clients) c.destroy();
    await until(() => backend.sockets.size === 0, 'proxied connections to close', 5000);
    await sleep(1100); // past DEFAULT_ACCEPT_PAUSE_MS, in case accept(2) errors were reported
    const c = await connectClient(lb.port);
    c.end('alive');
    expect((await readAll(c)).toString()).toBe('alive');
    expect(lb.child.exitCode).toBe(null);
  }, 30_000);
});
