/**
 * Idle-thread reuse (Java's `Executors.newCachedThreadPool()`): a thread whose connection closed waits up
 * to `threadKeepAliveMs` and takes the next connection without a start-up. Real sockets on loopback, real
 * worker threads, in both socket modes: relay everywhere, owned where this Node can transfer sockets
 * (Node 26.12+; run `vitest` under that Node to cover it, otherwise it is skipped with a message).
 */
import type { RunningServer } from '@iolab/server-core';
import { socketTransferSupported } from '@iolab/server-core';
import { Cleanup, get, rawConnect, sleep, statuses, until } from '@iolab/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { type BioOptions, startBio } from './bio-server.js';

const cleanup = new Cleanup();
afterEach(cleanup.run);

const owned = await socketTransferSupported();
if (!owned) {
  process.stderr.write(
    `bio-thread-reuse: owned sockets skipped: Node ${process.version} cannot transfer a socket to a worker thread\n`,
  );
}

const MODES = [
  { socket: 'relay', supported: true },
  { socket: 'owned', supported: owned },
] as const;

for (const { socket, supported } of MODES) {
  describe.skipIf(!supported)(`bio (${socket} sockets): idle threads are reused`, () => {
    async function start(options: Omit<BioOptions, 'protocol'>): Promise<RunningServer> {
      const server = await startBio({ protocol: 'http', socket, ...options });
      return cleanup.add(server, () => server.close(1000));
    }
    const connect = (server: RunningServer) => rawConnect(server.address.port, cleanup);

    /** One request on a new connection, answered, then closed by the client. */
    async function oneRequest(server: RunningServer, path = '/plaintext'): Promise<string> {
      const c = await connect(server);
      c.send(get(path));
      await until(() => statuses(c.text()).length === 1, `the answer to ${path}`);
      c.socket.end();
      await c.closed;
      return c.text();
    }

    it('a second connection after the first closes runs on the same thread', async () => {
      const server = await start({});
      expect(await oneRequest(server)).toContain('Hello, World!');
      await until(() => server.stats().threadsIdle === 1, 'the thread to go idle');
      expect(server.stats()).toMatchObject({ threadsAlive: 1, threadsStarted: 1, threadsReused: 0 });
      expect(await oneRequest(server, '/json')).toContain('{"message":"Hello, World!"}');
      await until(() => server.stats().threadsIdle === 1, 'the thread to go idle again');
      expect(server.stats()).toMatchObject({
        threadsAlive: 1,
        threadsPeak: 1,
        threadsStarted: 1,
        threadsReused: 1,
        requests: 2,
        connections: 0,
        errors: 0,
      });
    });

    it('an idle thread ends after the keep-alive', async () => {
      const server = await start({ threadKeepAliveMs: 300 });
      await oneRequest(server);
      await until(() => server.stats().threadsIdle === 1, 'the thread to go idle');
      await until(() => server.stats().threadsAlive === 0, 'the idle thread to end');
      expect(server.stats()).toMatchObject({ threadsIdle: 0, threadsStarted: 1 });
      // The next connection starts a new thread.
      await oneRequest(server);
      expect(server.stats()).toMatchObject({ threadsStarted: 2, threadsReused: 0 });
    });

    it('threadKeepAliveMs 0: every connection starts a thread and it ends with the connection', async () => {
      const server = await start({ threadKeepAliveMs: 0 });
      await oneRequest(server);
      await until(() => server.stats().threadsAlive === 0, 'the thread to end');
      await oneRequest(server);
      await until(() => server.stats().threadsAlive === 0, 'the second thread to end');
      expect(server.stats()).toMatchObject({ threadsStarted: 2, threadsReused: 0, threadsIdle: 0 });
    });

    it('maxThreads counts idle threads: at the cap a connection takes an idle thread, else is refused', async () => {
      const server = await start({ maxThreads: 2 });
      const busy = await connect(server);
      busy.send(get('/plaintext'));
      await until(() => statuses(busy.text()).length === 1, 'the busy connection served');
      await oneRequest(server);
      await until(() => server.stats().threadsIdle === 1, 'one thread idle');
      expect(server.stats()).toMatchObject({ threadsAlive: 2, threadsStarted: 2 });
      const reusing = await connect(server);
      reusing.send(get('/plaintext'));
      await until(() => statuses(reusing.text()).length === 1, 'the idle thread to answer');
      expect(server.stats()).toMatchObject({ threadsAlive: 2, threadsIdle: 0, threadsReused: 1 });
      const refused = await connect(server);
      await refused.closed;
      expect(refused.text()).toMatch(/^HTTP\/1.1 503 /);
      expect(server.stats()).toMatchObject({ refused: 1, threadsStarted: 2 });
    });

    it("a reused thread counts the new connection's deadlines from its own accept", async () => {
      const server = await start({ headerTimeoutMs: 400, idleTimeoutMs: 400 });
      await oneRequest(server);
      await until(() => server.stats().threadsIdle === 1, 'the thread to go idle');
      await sleep(600); // longer than both timeouts: a deadline carried over would have passed
      const late = await connect(server);
      late.send(get('/plaintext'));
      await until(() => statuses(late.text()).length === 1, 'the reused thread to answer');
      expect(statuses(late.text())).toEqual([200]);
      // And this connection's own idle deadline still closes it.
      await late.closed;
      expect(server.stats()).toMatchObject({ threadsReused: 1, idleTimeouts: 1, headerTimeouts: 0 });
    });

    it('close() ends idle threads at once, and a busy one after its request', async () => {
      const server = await start({});
      const busy = await connect(server);
      busy.send(get('/sleep?ms=500'));
      await until(() => server.stats().threadsAlive === 1, 'the busy thread');
      await oneRequest(server);
      await until(() => server.stats().threadsIdle === 1, 'the other thread to go idle');
      const began = Date.now();
      await server.close(5000);
      expect(Date.now() - began).toBeLessThan(3000); // not the 60 s keep-alive
      expect(statuses(busy.text())).toEqual([200]);
      expect(server.stats()).toMatchObject({ threadsAlive: 0, threadsIdle: 0, threadsStarted: 2 });
    });
  });
}
