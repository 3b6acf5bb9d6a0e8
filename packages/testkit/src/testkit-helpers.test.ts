import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { bytewise, concat, cutAt, splitAt } from './chunking.js';
import { Cleanup } from './cleanup.js';
import { get, rawConnect, responseWithBody, statuses } from './raw-http.js';
import { sleep, until, untilValue } from './until.js';

const cleanup = new Cleanup();
afterEach(cleanup.run);

describe('until', () => {
  it('resolves once the condition holds', async () => {
    let ready = false;
    setTimeout(() => {
      ready = true;
    }, 30);
    await until(() => ready, 'the flag');
    expect(ready).toBe(true);
  });

  it('names what it waited for when it times out', async () => {
    await expect(until(() => false, 'the impossible', 50)).rejects.toThrow(
      'timed out after 50 ms waiting for the impossible',
    );
  });

  it('untilValue hands back the first defined value', async () => {
    let n = 0;
    expect(await untilValue(() => (++n >= 3 ? n : undefined), 'a third try')).toBe(3);
  });

  it('sleep waits at least the time asked', async () => {
    const t0 = performance.now();
    await sleep(25);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(20);
  });
});

describe('Cleanup', () => {
  it('runs every closer newest first, even when one throws, then rethrows the first error', async () => {
    const local = new Cleanup();
    const order: string[] = [];
    local.defer(() => {
      order.push('a');
    });
    local.defer(() => {
      order.push('b');
      throw new Error('b failed');
    });
    expect(local.add(42, () => void order.push('c'))).toBe(42);
    await expect(local.run()).rejects.toThrow('b failed');
    expect(order).toEqual(['c', 'b', 'a']);
    expect(local.size).toBe(0);
  });
});

describe('chunking', () => {
  const bytes = Uint8Array.from([1, 2, 3, 4, 5]);
  it('splitAt ignores duplicates, order and out-of-range offsets, and concatenates back', () => {
    const parts = splitAt(bytes, [3, 0, 1, 3, 9]);
    expect(parts.map((p) => [...p])).toEqual([[1], [2, 3], [4, 5]]);
    expect([...concat(parts)]).toEqual([...bytes]);
  });

  it('cutAt keeps the empty pieces an offset of 0 or length asks for', () => {
    expect(cutAt(bytes, [0]).map((p) => p.length)).toEqual([0, 5]);
    expect(cutAt(bytes, [5]).map((p) => p.length)).toEqual([5, 0]);
  });

  it('bytewise yields one-byte pieces', () => {
    expect(bytewise(bytes).map((p) => p.length)).toEqual([1, 1, 1, 1, 1]);
  });
});

describe('responseWithBody', () => {
  const earlier = 'HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi';
  const head = 'HTTP/1.1 200 OK\r\nContent-Length: 6';

  it('waits for the whole body after the head, whatever came before it', () => {
    const from = earlier.length;
    // Longer than the body already, with one byte of it missing: not yet.
    expect(responseWithBody(`${earlier}${head}\r\n\r\nabcde`, 6, from)).toBeUndefined();
    expect(responseWithBody(`${earlier}${head}\r\n`, 0, from)).toBeUndefined();
    expect(responseWithBody(`${earlier}${head}\r\n\r\nabcdef`, 6, from)).toEqual({ head, body: 'abcdef' });
  });

  it('keeps bytes beyond the body in it, so a comparison sees them', () => {
    expect(responseWithBody(`${head}\r\n\r\nabcdefXY`, 6)?.body).toBe('abcdefXY');
  });
});

describe('rawConnect', () => {
  it('sends bytes as given and keeps everything received', async () => {
    const server: Server = createServer((socket) => {
      socket.once('data', () => {
        socket.end(
          'HTTP/1.1 200 OK\r\ncontent-length: 0\r\n\r\nHTTP/1.1 404 Not Found\r\ncontent-length: 0\r\n\r\n',
        );
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    cleanup.defer(() => new Promise<void>((resolve) => server.close(() => resolve())));
    const port = (server.address() as { port: number }).port;
    const conn = await rawConnect(port, cleanup);
    conn.send(get('/x', { Connection: 'close' }));
    await conn.closed;
    expect(statuses(conn.text())).toEqual([200, 404]);
  });
});
