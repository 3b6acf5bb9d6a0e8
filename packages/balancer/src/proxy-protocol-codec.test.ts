import { describe, expect, it } from 'vitest';
import { BalancerError } from './errors.js';
import { parseProxyHeader } from './proxy-protocol/detect.js';
import type { ProxyParseResult } from './proxy-protocol/header.js';
import { encodeProxyV1, PROXY_V1_MAX_LENGTH, parseProxyV1 } from './proxy-protocol/v1.js';
import { encodeProxyV2, parseProxyV2 } from './proxy-protocol/v2.js';

/** Feed `bytes` as every prefix: incomplete until the last byte, then the same header. */
function parseAtEveryOffset(bytes: Uint8Array): ProxyParseResult {
  for (let i = 0; i < bytes.length; i++) {
    expect(parseProxyHeader(bytes.subarray(0, i)).done, `prefix of ${i} bytes`).toBe(false);
  }
  return parseProxyHeader(bytes);
}

function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    return err instanceof BalancerError ? err.code : `not a BalancerError: ${String(err)}`;
  }
  return undefined;
}

describe('PROXY v1', () => {
  it('encodes the spec example and parses it back at every split', () => {
    const bytes = encodeProxyV1(
      { address: '192.0.2.10', port: 56324 },
      { address: '198.51.100.1', port: 443 },
    );
    expect(bytes.toString('latin1')).toBe('PROXY TCP4 192.0.2.10 198.51.100.1 56324 443\r\n');
    const withPayload = Buffer.concat([bytes, Buffer.from('GET / HTTP/1.1\r\n')]);
    const r = parseAtEveryOffset(bytes);
    expect(r).toMatchObject({
      done: true,
      length: bytes.length,
      header: { version: 1, transport: 'tcp4', source: { address: '192.0.2.10', port: 56324 } },
    });
    expect(parseProxyHeader(withPayload)).toMatchObject({ done: true, length: bytes.length });
  });

  it('handles TCP6, v4-mapped addresses and mixed families (UNKNOWN)', () => {
    const v6 = encodeProxyV1({ address: '2001:db8::1', port: 1 }, { address: '::1', port: 2 });
    expect(v6.toString()).toBe('PROXY TCP6 2001:db8::1 ::1 1 2\r\n');
    expect(parseProxyV1(v6)).toMatchObject({
      done: true,
      header: { transport: 'tcp6', destination: { address: '::1' } },
    });
    expect(
      encodeProxyV1({ address: '::ffff:127.0.0.1', port: 5 }, { address: '127.0.0.1', port: 6 }).toString(),
    ).toBe('PROXY TCP4 127.0.0.1 127.0.0.1 5 6\r\n');
    const unknown = encodeProxyV1({ address: '127.0.0.1', port: 5 }, { address: '::1', port: 6 });
    expect(unknown.toString()).toBe('PROXY UNKNOWN\r\n');
    expect(parseProxyV1(Buffer.from('PROXY UNKNOWN ffff::1 ffff::2 1 2\r\n'))).toMatchObject({
      done: true,
      header: { transport: 'unknown', source: undefined },
    });
  });

  it('rejects bad input with stable codes', () => {
    const bad = (s: string) => codeOf(() => parseProxyV1(Buffer.from(s, 'latin1')));
    expect(bad('PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n')).toBe('IOLAB_BALANCER_PROXY_HEADER_INVALID');
    expect(bad('PROXY TCP4 1.2.3.400 5.6.7.8 1 2\r\n')).toBe('IOLAB_BALANCER_PROXY_HEADER_INVALID');
    expect(bad('PROXY TCP4 ::1 5.6.7.8 1 2\r\n')).toBe('IOLAB_BALANCER_PROXY_HEADER_INVALID');
    expect(bad('PROXY TCP4 1.2.3.4 5.6.7.8 1 65536\r\n')).toBe('IOLAB_BALANCER_PROXY_HEADER_INVALID');
    expect(bad('PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n')).toBe('IOLAB_BALANCER_PROXY_HEADER_INVALID');
    expect(bad('PROXY SCTP 1.2.3.4 5.6.7.8 1 2\r\n')).toBe('IOLAB_BALANCER_PROXY_HEADER_INVALID');
    expect(bad('GET / HTTP/1.1\r\n')).toBe('IOLAB_BALANCER_PROXY_HEADER_INVALID');
    expect(bad('PROXY \x00')).toBe('IOLAB_BALANCER_PROXY_HEADER_INVALID');
    expect(bad(`PROXY UNKNOWN ${'x'.repeat(PROXY_V1_MAX_LENGTH)}`)).toBe(
      'IOLAB_BALANCER_PROXY_HEADER_TOO_LONG',
    );
  });
});

describe('PROXY v2', () => {
  it('encodes TCP4 byte for byte as haproxy does and parses it back at every split', () => {
    const bytes = encodeProxyV2({ address: '172.19.0.1', port: 42578 }, { address: '172.19.0.3', port: 80 });
    // From haproxy's own output (signature, 0x21 PROXY, 0x11 TCP4, len 12, addresses, ports).
    expect(bytes.toString('hex')).toBe('0d0a0d0a000d0a515549540a' + '2111000c' + 'ac130001ac130003a6520050');
    expect(parseAtEveryOffset(bytes)).toEqual({
      done: true,
      length: 28,
      header: {
        version: 2,
        command: 'proxy',
        transport: 'tcp4',
        source: { address: '172.19.0.1', port: 42578 },
        destination: { address: '172.19.0.3', port: 80 },
        tlvs: [],
      },
    });
  });

  it('round-trips TCP6 with TLVs, and LOCAL', () => {
    const tlv = { type: 0x02, value: Uint8Array.from(Buffer.from('example.com')) };
    const bytes = encodeProxyV2({ address: '2001:db8:0:0:1::7', port: 1000 }, { address: '::1', port: 443 }, [
      tlv,
    ]);
    const r = parseAtEveryOffset(bytes);
    expect(r).toMatchObject({
      done: true,
      header: {
        transport: 'tcp6',
        source: { address: '2001:db8::1:0:0:7', port: 1000 },
        destination: { address: '::1' },
      },
    });
    if (!r.done) throw new Error('unreachable');
    expect(Buffer.from(r.header.tlvs[0]!.value).toString()).toBe('example.com');
    const local = Buffer.from('0d0a0d0a000d0a515549540a20000000', 'hex');
    expect(parseProxyV2(local)).toMatchObject({
      done: true,
      header: { command: 'local', source: undefined },
      length: 16,
    });
  });

  it('rejects bad input with stable codes', () => {
    const sig = '0d0a0d0a000d0a515549540a';
    const bad = (hex: string, max?: number) => codeOf(() => parseProxyV2(Buffer.from(hex, 'hex'), max));
    expect(bad(`${sig}3111000c${'00'.repeat(12)}`)).toBe('IOLAB_BALANCER_PROXY_HEADER_INVALID'); // version 3
    expect(bad(`${sig}2211000c${'00'.repeat(12)}`)).toBe('IOLAB_BALANCER_PROXY_HEADER_INVALID'); // command 2
    expect(bad(`${sig}21410000`)).toBe('IOLAB_BALANCER_PROXY_HEADER_INVALID'); // family 4
    expect(bad(`${sig}21110004${'00'.repeat(4)}`)).toBe('IOLAB_BALANCER_PROXY_HEADER_INVALID'); // short block
    expect(bad(`${sig}2111000e${'00'.repeat(12)}0100`)).toBe('IOLAB_BALANCER_PROXY_HEADER_INVALID'); // cut TLV
    expect(bad(`${sig}2111ffff`)).toBe('IOLAB_BALANCER_PROXY_HEADER_TOO_LONG');
    expect(bad(`${sig}21110100`, 200)).toBe('IOLAB_BALANCER_PROXY_HEADER_TOO_LONG');
    expect(codeOf(() => parseProxyHeader(Buffer.from('\r\n\r\nX')))).toBe(
      'IOLAB_BALANCER_PROXY_HEADER_INVALID',
    );
  });
});
