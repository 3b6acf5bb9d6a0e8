/**
 * PROXY protocol version 1 (human-readable), haproxy `doc/proxy-protocol.txt` §2.1. Sans-I/O.
 *
 * ```
 *   "PROXY TCP4 192.0.2.10 198.51.100.1 56324 443\r\n"
 *    │     │    │          │            │     │   └ CRLF ends the header
 *    │     │    │          │            │     └ destination port
 *    │     │    │          │            └ source port (decimal, 0..65535)
 *    │     │    │          └ destination address
 *    │     │    └ source address (the real client)
 *    │     └ TCP4 | TCP6 | UNKNOWN (UNKNOWN: rest of the line ignored, use the socket's addresses)
 *    └ "PROXY " signature
 * ```
 *
 * The whole line is at most 107 bytes (the spec's worst case, TCP6 with full addresses), so a receiver
 * never needs more than that before it can decide.
 */

import { isIPv4, isIPv6 } from 'node:net';
import { ProxyHeaderInvalidError, ProxyHeaderTooLongError } from '../errors.js';
import {
  checkPort,
  type ProxyEndpoint,
  type ProxyHeader,
  type ProxyParseResult,
  pairTransport,
  unmapIPv4,
} from './header.js';

/** The spec's maximum v1 line length, CRLF included. */
export const PROXY_V1_MAX_LENGTH = 107;

const SIGNATURE = 'PROXY ';

/**
 * The v1 line for a connection from `source` to `destination` (the balancer's listening address).
 * Mixed or non-IP families give `PROXY UNKNOWN\r\n`, as the spec requires.
 */
export function encodeProxyV1(source: ProxyEndpoint, destination: ProxyEndpoint): Buffer {
  const src = unmapIPv4(source.address);
  const dst = unmapIPv4(destination.address);
  const t = pairTransport(src, dst);
  if (t === 'unknown') return Buffer.from('PROXY UNKNOWN\r\n', 'latin1');
  return Buffer.from(
    `PROXY ${t.toUpperCase()} ${src} ${dst} ${source.port} ${destination.port}\r\n`,
    'latin1',
  );
}

/** True while `buf` could still be the start of a v1 header. */
export function couldBeProxyV1(buf: Uint8Array): boolean {
  const n = Math.min(buf.length, SIGNATURE.length);
  for (let i = 0; i < n; i++) if (buf[i] !== SIGNATURE.charCodeAt(i)) return false;
  return true;
}

/**
 * Parse a v1 header at the start of `buf`. Returns `{ done: false }` when the CRLF has not arrived yet
 * (feed more bytes and call again with the whole prefix); throws {@link ProxyHeaderInvalidError} or
 * {@link ProxyHeaderTooLongError} (no CRLF within 107 bytes).
 */
export function parseProxyV1(buf: Uint8Array): ProxyParseResult {
  if (!couldBeProxyV1(buf)) throw new ProxyHeaderInvalidError('not a PROXY v1 signature', 0);
  const limit = Math.min(buf.length, PROXY_V1_MAX_LENGTH);
  let cr = -1;
  for (let i = SIGNATURE.length; i < limit; i++) {
    if (buf[i] === 0x0d) {
      cr = i;
      break;
    }
    // Only printable ASCII may appear in the line; catching binary early avoids waiting for 107 bytes.
    if (buf[i]! < 0x20 || buf[i]! > 0x7e)
      throw new ProxyHeaderInvalidError('non-printable byte in v1 header', i);
  }
  if (cr < 0) {
    if (buf.length >= PROXY_V1_MAX_LENGTH) throw new ProxyHeaderTooLongError(PROXY_V1_MAX_LENGTH, 1);
    return { done: false };
  }
  if (cr + 1 >= buf.length) return { done: false };
  if (buf[cr + 1] !== 0x0a) throw new ProxyHeaderInvalidError('CR not followed by LF', cr + 1);
  const line = Buffer.from(buf.buffer, buf.byteOffset, cr).toString('latin1');
  const fields = line.split(' ');
  const proto = fields[1];
  const length = cr + 2;
  if (proto === 'UNKNOWN') {
    return {
      done: true,
      length,
      header: {
        version: 1,
        command: 'proxy',
        transport: 'unknown',
        source: undefined,
        destination: undefined,
        tlvs: [],
      },
    };
  }
  if (proto !== 'TCP4' && proto !== 'TCP6') {
    throw new ProxyHeaderInvalidError(`unknown protocol ${JSON.stringify(proto)}`, SIGNATURE.length);
  }
  if (fields.length !== 6) throw new ProxyHeaderInvalidError(`expected 6 fields, got ${fields.length}`, 0);
  const [, , src, dst, sport, dport] = fields as [string, string, string, string, string, string];
  const isFamily = proto === 'TCP4' ? isIPv4 : isIPv6;
  let offset = SIGNATURE.length + proto.length + 1;
  if (!isFamily(src))
    throw new ProxyHeaderInvalidError(`bad ${proto} source address ${JSON.stringify(src)}`, offset);
  offset += src.length + 1;
  if (!isFamily(dst)) {
    throw new ProxyHeaderInvalidError(`bad ${proto} destination address ${JSON.stringify(dst)}`, offset);
  }
  offset += dst.length + 1;
  const sp = checkPort(sport, offset);
  offset += sport.length + 1;
  const dp = checkPort(dport, offset);
  const header: ProxyHeader = {
    version: 1,
    command: 'proxy',
    transport: proto === 'TCP4' ? 'tcp4' : 'tcp6',
    source: { address: src, port: sp },
    destination: { address: dst, port: dp },
    tlvs: [],
  };
  return { done: true, header, length };
}
