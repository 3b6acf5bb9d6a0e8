import { createHash } from 'node:crypto';
import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { createSession, isProtocolName, PROTOCOL_NAMES, refusalBytes } from './create-session.js';
import { blockingSleep, cpuDigest, runOperationSync } from './operations.js';
import { runOperation } from './run-operation-async.js';
import { noSleep, parseResponses, text } from './test-session-driver.js';

describe('operations', () => {
  it('cpu is the documented SHA-256 chain from 32 zero bytes', () => {
    let d = Buffer.alloc(32);
    for (let i = 0; i < 100; i++) d = createHash('sha256').update(d).digest();
    expect(Buffer.from(cpuDigest(100)).equals(d)).toBe(true);
    expect([...cpuDigest(0)]).toEqual(new Array(32).fill(0));
  });

  it('runOperationSync covers every op and hands sleep to the given sleeper', () => {
    const slept: number[] = [];
    expect(text((runOperationSync({ kind: 'plaintext' }, noSleep) as { body: Uint8Array }).body)).toBe(
      'Hello, World!',
    );
    expect(runOperationSync({ kind: 'sleep', ms: 7 }, (ms) => slept.push(ms))).toMatchObject({ ok: true });
    expect(slept).toEqual([7]);
    expect(runOperationSync({ kind: 'cpu', rounds: -1 }, noSleep)).toMatchObject({ ok: false, status: 400 });
    expect(runOperationSync({ kind: 'sleep', ms: Number.NaN }, noSleep)).toMatchObject({ ok: false });
  });

  it('blockingSleep parks the thread for at least the time asked', () => {
    const start = performance.now();
    blockingSleep(30);
    expect(performance.now() - start).toBeGreaterThanOrEqual(29);
  });

  it('runOperation sleeps with a timer: the event loop keeps running meanwhile', async () => {
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 1);
    try {
      const result = await runOperation({ kind: 'sleep', ms: 40 });
      expect(result.ok).toBe(true);
      expect(ticks).toBeGreaterThan(3);
    } finally {
      clearInterval(ticker);
    }
    expect(await runOperation({ kind: 'echo', body: Uint8Array.of(1, 2) })).toMatchObject({ ok: true });
  });

  it('the same session and operations run unchanged in a worker thread (built dist)', async () => {
    // The point of sans-I/O: the BIO and pool models run this exact code off the main thread.
    const worker = new Worker(
      `
      const { parentPort } = require('node:worker_threads');
      import(${JSON.stringify(new URL('../dist/index.js', import.meta.url).href)}).then((p) => {
        const s = p.createSession('http');
        const out = s.receive(new TextEncoder().encode('GET /sleep?ms=20 HTTP/1.1\\r\\nHost: a\\r\\n\\r\\n'));
        const t = performance.now();
        const done = s.complete(out.work[0].id, p.runOperationSync(out.work[0].op, p.blockingSleep));
        parentPort.postMessage({ waited: performance.now() - t, bytes: Buffer.concat(done.send).toString('latin1') });
      });
      `,
      { eval: true },
    );
    try {
      const msg = await new Promise<{ waited: number; bytes: string }>((resolve, reject) => {
        worker.once('message', resolve);
        worker.once('error', reject);
      });
      expect(msg.waited).toBeGreaterThanOrEqual(19);
      expect(parseResponses(Buffer.from(msg.bytes, 'latin1'))[0]!.status).toBe(200);
    } finally {
      await worker.terminate();
    }
  });
});

describe('createSession / refusalBytes', () => {
  it('makes a session per protocol and validates limits', () => {
    for (const name of PROTOCOL_NAMES) {
      expect(isProtocolName(name)).toBe(true);
      expect(createSession(name).pending).toBe(0);
      expect(() => createSession(name, { maxBodyBytes: -1 })).toThrow(RangeError);
    }
    expect(isProtocolName('gopher')).toBe(false);
  });

  it('HTTP refusal is a 503 with Connection: close; framed refusal is just the close', () => {
    const [r] = parseResponses(refusalBytes('http'));
    expect(r!.status).toBe(503);
    expect(r!.headers.connection).toBe('close');
    expect(refusalBytes('echo-lp')).toHaveLength(0);
    expect(refusalBytes('echo-line')).toHaveLength(0);
  });
});
