/**
 * PROXY protocol version 2 (binary), haproxy `doc/proxy-protocol.txt` §2.2. Sans-I/O.
 *
 * ```
 *  0                 12       13       14        16
 *  ├─ signature ─────┼────────┼────────┼─────────┼─ addresses ──────────────────┬─ TLVs ─────────┐
 *  │ 0D 0A 0D 0A 00  │ver|cmd │fam|prot│ len(BE) │ TCP4: src4 dst4 sport dport  │ type len value │
 *  │ 0D 0A 51 55 49  │ 0x2_   │        │ u16     │  (12 bytes)                  │ u8   u16 …     │
 *  │ 54 0A           │ 0=LOCAL│ 0x11 TCP4        │ TCP6: src16 dst16 sport dport│ (repeated)     │
 *  │ (12 bytes)      │ 1=PROXY│ 0x21 TCP6        │  (36 bytes)                  │                │
 *  │                 │        │ 0x31 UNIX stream │ UNIX: src108 dst108 (216)    │                │
 *  └─────────────────┴────────┴────────┴─────────┴──────────────────────────────┴────────────────┘
 *                                                 ◀──────────── len bytes ────────────────────────▶
 * ```
 */

import { ProxyHeaderInvalidError, ProxyHeaderTooLongError } from '../errors.js';
import {
  bytesToIPv4,
  bytesToIPv6,
  ipv4ToBytes,
  ipv6ToBytes,
  type ProxyEndpoint,
  type ProxyHeader,
  type ProxyParseResult,
  type ProxyTlv,
  type ProxyTransport,
  pairTransport,
  unmapIPv4,
} from './header.js';

export const PROXY_V2_SIGNATURE = Uint8Array.from([
  0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a,
]);
const FIXED = 16;

/**
 * Accepted v2 header size, fixed part included. The format allows 16 + 65535; real senders (HAProxy, AWS
 * NLB, Azure) send addresses plus a few small TLVs, well under 1 KiB — 4 KiB leaves room without letting
 * a client make us hold 64 KiB per connection.
 */
export const DEFAULT_PROXY_V2_MAX_LENGTH = 4096;

/** Binary v2 header with command PROXY for `source` → `destination`; mixed/non-IP families give AF_UNSPEC. */
export function encodeProxyV2(
  source: ProxyEndpoint,
  destination: ProxyEndpoint,
  tlvs: ProxyTlv[] = [],
): Buffer {
  const src = unmapIPv4(source.address);
  const dst = unmapIPv4(destination.address);
  const t = pairTransport(src, dst);
  const addrLen = t === 'tcp4' ? 12 : t === 'tcp6' ? 36 : 0;
  let tlvLen = 0;
  for (const tlv of tlvs) tlvLen += 3 + tlv.value.length;
  const out = Buffer.alloc(FIXED + addrLen + tlvLen);
  out.set(PROXY_V2_SIGNATURE, 0);
  out[12] = 0x21; // version 2, command PROXY
  out[13] = t === 'tcp4' ? 0x11 : t === 'tcp6' ? 0x21 : 0x00;
  out.writeUInt16BE(addrLen + tlvLen, 14);
  if (t === 'tcp4') {
    ipv4ToBytes(src, out, 16);
    ipv4ToBytes(dst, out, 20);
    out.writeUInt16BE(source.port, 24);
    out.writeUInt16BE(destination.port, 26);
  } else if (t === 'tcp6') {
    ipv6ToBytes(src, out, 16);
    ipv6ToBytes(dst, out, 32);
    out.writeUInt16BE(source.port, 48);
    out.writeUInt16BE(destination.port, 50);
  }
  let o = FIXED + addrLen;
  for (const tlv of tlvs) {
    out[o] = tlv.type;
    out.writeUInt16BE(tlv.value.length, o + 1);
    out.set(tlv.value, o + 3);
    o += 3 + tlv.value.length;
  }
  return out;
}

/** True while `buf` could still be the start of a v2 header. */
export function couldBeProxyV2(buf: Uint8Array): boolean {
  const n = Math.min(buf.length, PROXY_V2_SIGNATURE.length);
  for (let i = 0; i < n; i++) if (buf[i] !== PROXY_V2_SIGNATURE[i]) return false;
  return true;
}

function unixPath(b: Uint8Array, offset: number): string {
  let end = offset;
  while (end < offset + 108 && b[end] !== 0) end++;
  return Buffer.from(b.buffer, b.byteOffset + offset, end - offset).toString('utf8');
}

/**
 * Parse a v2 header at the start of `buf`: `{ done: false }` until all `16 + len` bytes are there.
 * Throws {@link ProxyHeaderInvalidError} (bad signature/version/command/family, address block shorter than
 * its family needs, truncated TLV) or {@link ProxyHeaderTooLongError} when `16 + len > maxLength`.
 */
export function parseProxyV2(buf: Uint8Array, maxLength = DEFAULT_PROXY_V2_MAX_LENGTH): ProxyParseResult {
  if (!couldBeProxyV2(buf)) throw new ProxyHeaderInvalidError('not a PROXY v2 signature', 0);
  if (buf.length < FIXED) return { done: false };
  const verCmd = buf[12]!;
  if (verCmd >> 4 !== 2) throw new ProxyHeaderInvalidError(`version ${verCmd >> 4}, expected 2`, 12);
  const cmd = verCmd & 0x0f;
  if (cmd > 1) throw new ProxyHeaderInvalidError(`unknown command ${cmd}`, 12);
  const fam = buf[13]!;
  const len = (buf[14]! << 8) | buf[15]!;
  if (FIXED + len > maxLength) throw new ProxyHeaderTooLongError(maxLength, 2);
  if (buf.length < FIXED + len) return { done: false };

  const af = fam >> 4;
  const proto = fam & 0x0f;
  if (af > 3) throw new ProxyHeaderInvalidError(`unknown address family ${af}`, 13);
  if (proto > 2) throw new ProxyHeaderInvalidError(`unknown transport protocol ${proto}`, 13);
  const addrLen = af === 1 ? 12 : af === 2 ? 36 : af === 3 ? 216 : 0;
  if (len < addrLen)
    throw new ProxyHeaderInvalidError(`length ${len} shorter than the ${addrLen}-byte address block`, 14);

  let transport: ProxyTransport = 'unknown';
  let source: ProxyEndpoint | undefined;
  let destination: ProxyEndpoint | undefined;
  const view = Buffer.from(buf.buffer, buf.byteOffset, FIXED + len);
  if (af !== 0 && proto !== 0) {
    if (af === 1) {
      transport = proto === 1 ? 'tcp4' : 'udp4';
      source = { address: bytesToIPv4(view, 16), port: view.readUInt16BE(24) };
      destination = { address: bytesToIPv4(view, 20), port: view.readUInt16BE(26) };
    } else if (af === 2) {
      transport = proto === 1 ? 'tcp6' : 'udp6';
      source = { address: bytesToIPv6(view, 16), port: view.readUInt16BE(48) };
      destination = { address: bytesToIPv6(view, 32), port: view.readUInt16BE(50) };
    } else {
      transport = proto === 1 ? 'unix-stream' : 'unix-dgram';
      source = { address: unixPath(view, 16), port: 0 };
      destination = { address: unixPath(view, 124), port: 0 };
    }
  }
  const tlvs: ProxyTlv[] = [];
  let o = FIXED + addrLen;
  const end = FIXED + len;
  while (o < end) {
    if (o + 3 > end) throw new ProxyHeaderInvalidError('truncated TLV header', o);
    const tlen = view.readUInt16BE(o + 1);
    if (o + 3 + tlen > end) throw new ProxyHeaderInvalidError(`TLV of ${tlen} bytes runs past the header`, o);
    tlvs.push({ type: view[o]!, value: Uint8Array.prototype.slice.call(view, o + 3, o + 3 + tlen) });
    o += 3 + tlen;
  }
  const command = cmd === 0 ? 'local' : 'proxy';
  const header: ProxyHeader = {
    version: 2,
    command,
    transport: command === 'local' ? 'unknown' : transport,
    source: command === 'local' ? undefined : source,
    destination: command === 'local' ? undefined : destination,
    tlvs,
  };
  return { done: true, header, length: FIXED + len };
}
