import type { Socket } from 'node:net';
import { until } from '@iolab/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import type { ConnectionEndEvent } from './balancer-api.js';
import type { ProxyProtocolVersion } from './config.js';
import { parseProxyHeader } from './proxy-protocol/detect.js';
import type { ProxyHeader } from './proxy-protocol/header.js';
import { encodeProxyV1 } from './proxy-protocol/v1.js';
import { encodeProxyV2 } from './proxy-protocol/v2.js';
import { cleanup, connectClient, readAll, startBackend, startBalancer } from './test-support.js';

afterEach(cleanup);

/** A backend that parses the PROXY header it receives, then echoes the rest. */
async function proxyAwareBackend() {
  const headers: ProxyHeader[] = [];
  const backend = await startBackend('pp', 'echo', (s: Socket) => {
    let buf = Buffer.alloc(0);
    let parsed = false;
    s.on('data', (c: Buffer) => {
      if (parsed) {
        s.write(c);
        return;
      }
      buf = Buffer.concat([buf, c]);
      const r = parseProxyHeader(buf);
      if (!r.done) return;
      parsed = true;
      headers.push(r.header);
      if (r.length < buf.length) s.write(buf.subarray(r.length));
    });
    s.on('end', () => s.end());
  });
  return { backend, headers };
}

async function balancer(
  backendPort: number,
  proxyProtocol: ProxyProtocolVersion | undefined,
  accept = false,
) {
  const { lb, port } = await startBalancer({
    listeners: [{ port: 0, pool: 'p', acceptProxyProtocol: accept, timeouts: { proxyHeader: 200 } }],
    pools: [
      {
        name: 'p',
        health: { enabled: false },
        backends: [{ host: '127.0.0.1', port: backendPort, proxyProtocol }],
      },
    ],
  });
  const ends: ConnectionEndEvent[] = [];
  lb.on('connection-end', (e) => ends.push(e));
  return { lb, port, ends };
}

describe('PROXY protocol on real connections', () => {
  for (const version of ['v1', 'v2'] as const) {
    it(`sends a ${version} header the backend parses to the real client address`, async () => {
      const { backend, headers } = await proxyAwareBackend();
      const { port } = await balancer(backend.port, version);
      const c = await connectClient(port);
      const clientPort = c.localPort;
      c.end('payload');
      expect((await readAll(c)).toString()).toBe('payload');
      expect(headers).toHaveLength(1);
      expect(headers[0]).toMatchObject({
        version: version === 'v1' ? 1 : 2,
        command: 'proxy',
        transport: 'tcp4',
        source: { address: '127.0.0.1', port: clientPort },
        destination: { address: '127.0.0.1', port },
      });
    });

    it(`accepts a ${version} header on the listener and passes the original client on`, async () => {
      const { backend, headers } = await proxyAwareBackend();
      const { port, ends } = await balancer(backend.port, 'v1', true);
      const c = await connectClient(port);
      const src = { address: '203.0.113.7', port: 40000 };
      const dst = { address: '198.51.100.9', port: 443 };
      const header = version === 'v1' ? encodeProxyV1(src, dst) : encodeProxyV2(src, dst);
      // Header split across two writes, payload in the same packet as its tail.
      c.write(header.subarray(0, 5));
      await new Promise((r) => setTimeout(r, 20));
      c.end(Buffer.concat([header.subarray(5), Buffer.from('after-header')]));
      expect((await readAll(c)).toString()).toBe('after-header');
      expect(headers[0]).toMatchObject({ version: 1, source: src, destination: dst });
      await until(() => ends.length === 1, 'end', 1000);
      expect(ends[0]).toMatchObject({ clientAddress: '203.0.113.7', clientPort: 40000, bytesIn: 12 });
    });
  }

  it('an IPv6 client on an IPv6 listener is sent as TCP6', async () => {
    const { backend, headers } = await proxyAwareBackend();
    const { lb, port } = await startBalancer({
      listeners: [{ host: '::1', port: 0, pool: 'p' }],
      pools: [
        {
          name: 'p',
          health: { enabled: false },
          backends: [{ host: '127.0.0.1', port: backend.port, proxyProtocol: 'v2' }],
        },
      ],
    });
    expect(lb.stats().listeners[0]!.address).toEqual({ host: '::1', port });
    const c = await connectClient(port, '::1');
    const clientPort = c.localPort;
    c.end('six');
    expect((await readAll(c)).toString()).toBe('six');
    expect(headers[0]).toMatchObject({
      transport: 'tcp6',
      source: { address: '::1', port: clientPort },
      destination: { address: '::1', port },
    });
  });

  it('rejects a client without a valid header, and one that is too slow to send it', async () => {
    const backend = await startBackend('e', 'echo');
    const { port, ends } = await balancer(backend.port, undefined, true);
    const bad = await connectClient(port);
    bad.write('GET / HTTP/1.1\r\n\r\n');
    expect((await readAll(bad)).length).toBe(0);
    const slow = await connectClient(port);
    slow.write('PROXY TCP4 ');
    expect((await readAll(slow)).length).toBe(0);
    await until(() => ends.length === 2, 'ends', 1000);
    expect(ends.map((e) => e.reason)).toEqual([
      'IOLAB_BALANCER_PROXY_HEADER_INVALID',
      'IOLAB_BALANCER_PROXY_HEADER_TIMEOUT',
    ]);
    expect(backend.accepted).toBe(0);
  });
});
