import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BalancerError } from './errors.js';
import { parseProxyHeader } from './proxy-protocol/detect.js';
import { encodeProxyV1 } from './proxy-protocol/v1.js';
import { encodeProxyV2 } from './proxy-protocol/v2.js';

const endpoint4 = fc.record({ address: fc.ipV4(), port: fc.integer({ min: 0, max: 65535 }) });
// fast-check's ipV6() includes forms like `::ffff:1.2.3.4`; compare through a canonical form instead.
const endpoint6 = fc.record({ address: fc.ipV6(), port: fc.integer({ min: 0, max: 65535 }) });

function canonical6(a: string): string {
  return new URL(`http://[${a}]/`).hostname.slice(1, -1);
}

describe('PROXY protocol properties', () => {
  it('v1 and v2 round-trip any IPv4 pair, followed by any payload', () => {
    fc.assert(
      fc.property(
        endpoint4,
        endpoint4,
        fc.uint8Array({ maxLength: 64 }),
        fc.boolean(),
        (src, dst, payload, v2) => {
          const header = v2 ? encodeProxyV2(src, dst) : encodeProxyV1(src, dst);
          const r = parseProxyHeader(Buffer.concat([header, payload]));
          expect(r.done).toBe(true);
          if (!r.done) return;
          expect(r.length).toBe(header.length);
          expect(r.header.source).toEqual({ address: src.address, port: src.port });
          expect(r.header.destination).toEqual({ address: dst.address, port: dst.port });
        },
      ),
    );
  });

  it('v2 round-trips any IPv6 pair (canonical form)', () => {
    fc.assert(
      fc.property(endpoint6, endpoint6, (src, dst) => {
        const mapped = (a: string) => /^::ffff:\d/i.test(a);
        fc.pre(!mapped(src.address) && !mapped(dst.address)); // v4-mapped ones are sent as TCP4 on purpose
        const r = parseProxyHeader(encodeProxyV2(src, dst));
        if (!r.done) throw new Error('incomplete');
        expect(r.header.transport).toBe('tcp6');
        expect(canonical6(r.header.source!.address)).toBe(canonical6(src.address));
        expect(canonical6(r.header.destination!.address)).toBe(canonical6(dst.address));
      }),
    );
  });

  it('arbitrary bytes never crash the parser: incomplete, a header, or a typed error', () => {
    const prefixed = fc.oneof(
      fc.uint8Array({ maxLength: 200 }),
      fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.concat([Buffer.from('PROXY '), b])),
      fc
        .uint8Array({ maxLength: 200 })
        .map((b) => Buffer.concat([Buffer.from('0d0a0d0a000d0a515549540a', 'hex'), b])),
    );
    fc.assert(
      fc.property(prefixed, (bytes) => {
        try {
          parseProxyHeader(bytes);
        } catch (err) {
          expect(err).toBeInstanceOf(BalancerError);
          expect((err as BalancerError).code).toMatch(/^IOLAB_BALANCER_PROXY_HEADER_(INVALID|TOO_LONG)$/);
        }
      }),
      { numRuns: 2000 },
    );
  });
});
