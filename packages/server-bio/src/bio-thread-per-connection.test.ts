import type { RunningServer } from '@iolab/server-core';
import { Cleanup, get, rawConnect, statuses, until } from '@iolab/testkit';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { startBio } from './bio-server.js';

// Tests here wait out a 1.5 s /sleep and thread start-ups, up to ~1.6 s on an idle 2-core machine; a CI
// runner running every package's tests at once was ~1.8x slower (a 2.8 s relay test timed out at vitest's
// 5 s default there).
vi.setConfig({ testTimeout: 30_000 });

// Newest first: a test's sockets are destroyed before its server is closed.
const cleanup = new Cleanup();
afterEach(cleanup.run);

async function start(options: Parameters<typeof startBio>[0]): Promise<RunningServer> {
  const server = await startBio(options);
  return cleanup.add(server, () => server.close(1000));
}

const connect = (port: number) => rawConnect(port, cleanup);

describe('bio: a thread per connection', () => {
  it('starts one thread per connection and, with no keep-alive, ends it with the connection', async () => {
    const server = await start({ protocol: 'http', threadKeepAliveMs: 0 });
    const conns = await Promise.all([1, 2, 3].map(() => connect(server.address.port)));
    for (const c of conns) c.send(get('/plaintext'));
    await until(() => conns.every((c) => c.text().includes('Hello, World!')), 'three answers');
    expect(server.stats()).toMatchObject({ threadsAlive: 3, threadsPeak: 3, connections: 3, requests: 3 });
    for (const c of conns) c.socket.end();
    await until(() => server.stats().threadsAlive === 0, 'threads to exit');
    expect(server.stats().threadsPeak).toBe(3);
  });

  it('a /sleep holds its own thread only: another connection is answered meanwhile', async () => {
    const server = await start({ protocol: 'http' });
    const sleeper = await connect(server.address.port);
    const other = await connect(server.address.port);
    sleeper.send(get('/sleep?ms=1500'));
    await until(() => server.stats().threadsAlive === 2, 'both threads');
    const t0 = Date.now();
    other.send(get('/plaintext'));
    await until(() => other.text().includes('Hello, World!'), 'the other answer');
    expect(Date.now() - t0).toBeLessThan(1400);
    expect(sleeper.text()).toBe('');
    await until(() => statuses(sleeper.text()).length === 1, 'the sleeper answer');
  });

  it('refuses beyond maxThreads with 503 and close, counts it, and keeps serving', async () => {
    const server = await start({ protocol: 'http', maxThreads: 2 });
    const a = await connect(server.address.port);
    const b = await connect(server.address.port);
    a.send(get('/plaintext'));
    b.send(get('/plaintext'));
    await until(() => statuses(a.text()).length === 1 && statuses(b.text()).length === 1, 'two answers');
    const refused = await connect(server.address.port);
    await refused.closed;
    expect(refused.text()).toMatch(/^HTTP\/1.1 503 /);
    expect(server.stats().refused).toBe(1);
    a.socket.end();
    await until(() => server.stats().threadsIdle === 1, 'a thread to free');
    const c = await connect(server.address.port);
    c.send(get('/plaintext'));
    await until(() => c.text().includes('Hello, World!'), 'a served after refusal');
  });

  it('refuses a framed connection beyond the cap by closing it', async () => {
    const server = await start({ protocol: 'echo-line', maxThreads: 1 });
    const a = await connect(server.address.port);
    a.send('ECHO hi\n');
    await until(() => a.text() === 'OK hi\n', 'echo');
    const refused = await connect(server.address.port);
    await refused.closed;
    expect(refused.text()).toBe('');
    expect(server.stats().refused).toBe(1);
  });

  it('close() lets an in-flight request finish, then ends threads and connections', async () => {
    const server = await start({ protocol: 'http' });
    const busy = await connect(server.address.port);
    const idle = await connect(server.address.port);
    busy.send(get('/sleep?ms=400'));
    await until(() => server.stats().threadsAlive === 2, 'threads');
    await server.close(5000);
    expect(statuses(busy.text()).length).toBe(1);
    expect(busy.text()).toMatch(/^HTTP\/1.1 200 /);
    expect(idle.text()).toBe('');
    expect(server.stats().threadsAlive).toBe(0);
  });
});
