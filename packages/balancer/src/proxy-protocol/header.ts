/**
 * The decoded form of a PROXY protocol header, shared by v1 and v2, and the address codecs both need.
 * No I/O here: `v1.ts` / `v2.ts` turn bytes into a {@link ProxyHeader} and back.
 */

import { isIPv4, isIPv6 } from 'node:net';
import { ProxyHeaderInvalidError } from '../errors.js';

export type ProxyTransport = 'tcp4' | 'tcp6' | 'udp4' | 'udp6' | 'unix-stream' | 'unix-dgram' | 'unknown';

export interface ProxyEndpoint {
  address: string;
  port: number;
}

/** A v2 Type-Length-Value extension (e.g. 0x01 ALPN, 0x02 authority, 0x20 SSL); kept raw. */
export interface ProxyTlv {
  type: number;
  value: Uint8Array;
}

export interface ProxyHeader {
  version: 1 | 2;
  /** `local`: the sender's own connection (health check); use the socket's real addresses. */
  command: 'proxy' | 'local';
  transport: ProxyTransport;
  /** Undefined for `local` and `unknown`. */
  source: ProxyEndpoint | undefined;
  destination: ProxyEndpoint | undefined;
  tlvs: ProxyTlv[];
}

/** What a parser returns: wait for more bytes, or a header and how many bytes it took. */
export type ProxyParseResult = { done: false } | { done: true; header: ProxyHeader; length: number };

/** `::ffff:127.0.0.1` (an IPv4 client on a dual-stack socket) → `127.0.0.1`; else unchanged. */
export function unmapIPv4(address: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return m ? m[1]! : address;
}

/** Family of a source/destination pair, or `unknown` when they differ or are not IP. */
export function pairTransport(source: string, destination: string): 'tcp4' | 'tcp6' | 'unknown' {
  if (isIPv4(source) && isIPv4(destination)) return 'tcp4';
  if (isIPv6(source) && isIPv6(destination)) return 'tcp6';
  return 'unknown';
}

export function ipv4ToBytes(address: string, out: Uint8Array, offset: number): void {
  const parts = address.split('.');
  for (let i = 0; i < 4; i++) out[offset + i] = Number(parts[i]);
}

export function bytesToIPv4(b: Uint8Array, offset: number): string {
  return `${b[offset]}.${b[offset + 1]}.${b[offset + 2]}.${b[offset + 3]}`;
}

/** Text IPv6 (with `::` and an optional dotted IPv4 tail) → 16 bytes at `offset`. Input must be valid. */
export function ipv6ToBytes(address: string, out: Uint8Array, offset: number): void {
  let text = address;
  const zone = text.indexOf('%');
  if (zone >= 0) text = text.slice(0, zone);
  const groups: number[] = [];
  const toGroups = (part: string): number[] => {
    if (part === '') return [];
    const res: number[] = [];
    for (const g of part.split(':')) {
      if (g.includes('.')) {
        const p = g.split('.').map(Number);
        res.push((p[0]! << 8) | p[1]!, (p[2]! << 8) | p[3]!);
      } else res.push(Number.parseInt(g, 16));
    }
    return res;
  };
  const dbl = text.indexOf('::');
  if (dbl >= 0) {
    const head = toGroups(text.slice(0, dbl));
    const tail = toGroups(text.slice(dbl + 2));
    groups.push(...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail);
  } else groups.push(...toGroups(text));
  for (let i = 0; i < 8; i++) {
    out[offset + 2 * i] = (groups[i]! >> 8) & 0xff;
    out[offset + 2 * i + 1] = groups[i]! & 0xff;
  }
}

/** 16 bytes → RFC 5952 text (lower case, longest run of ≥2 zero groups as `::`). */
export function bytesToIPv6(b: Uint8Array, offset: number): string {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push((b[offset + 2 * i]! << 8) | b[offset + 2 * i + 1]!);
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (xs: number[]) => xs.map((x) => x.toString(16)).join(':');
  if (bestStart < 0) return hex(g);
  return `${hex(g.slice(0, bestStart))}::${hex(g.slice(bestStart + bestLen))}`;
}

export function checkPort(text: string, offset: number): number {
  if (!/^\d{1,5}$/.test(text)) throw new ProxyHeaderInvalidError(`bad port ${JSON.stringify(text)}`, offset);
  const n = Number(text);
  if (n > 65535) throw new ProxyHeaderInvalidError(`port ${n} out of range`, offset);
  return n;
}
