/**
 * The messages the experiment sends: each carries its sequence number and a checksum of its own bytes, so
 * any reader (naive or codec) can tell an intact message from a fragment or a coalesced lump.
 *
 * echo-lp (a valid `@iolab/protocols` echo request; the response swaps `op` for `status` = 0):
 *
 *   +--------+--------+--------+---------------+----------+
 *   | length |   op   |  seq   | filler (a..z) |  crc32   |
 *   | u32 BE | u8 = 1 | u32 BE |   n bytes     |  u32 BE  |   crc32 over seq + filler
 *   +--------+--------+--------+---------------+----------+
 *   length = 1 + 4 + n + 4 (bytes after the length field)
 *
 * echo-line (response: `OK ` instead of `ECHO `):
 *
 *   "ECHO " <seq: 8 hex> <filler a..z> " " <crc32 of seq+filler: 8 hex> "\n"
 */
import * as zlib from 'node:zlib';

export type WireProtocol = 'echo-lp' | 'echo-line';

/** Bytes of a message around its filler: the smallest message each protocol can carry. */
export const MIN_MESSAGE_BYTES: Readonly<Record<WireProtocol, number>> = { 'echo-lp': 13, 'echo-line': 23 };

// zlib.crc32 arrived in Node 20.15 / 22.2; older 20.x get FNV-1a, which finds fragments just as well.
const zlibCrc32 = (zlib as { crc32?: (data: Uint8Array) => number }).crc32;
function fnv1a(data: Uint8Array): number {
  let hash = 0x811c9dc5;
  for (const byte of data) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  return hash;
}
/** The checksum in use: CRC32 from zlib when this Node has it, else FNV-1a 32. */
export const CHECKSUM_NAME = zlibCrc32 ? 'CRC32 (zlib.crc32)' : 'FNV-1a 32';
const checksum = (data: Uint8Array): number => (zlibCrc32 ? zlibCrc32(data) >>> 0 : fnv1a(data));

function filler(n: number, seq: number): Buffer {
  const buf = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) buf[i] = 97 + ((seq + i) % 26);
  return buf;
}

/** One request of exactly `size` wire bytes (≥ {@link MIN_MESSAGE_BYTES}). */
export function buildMessage(protocol: WireProtocol, seq: number, size: number): Buffer {
  const n = size - MIN_MESSAGE_BYTES[protocol];
  if (n < 0)
    throw new RangeError(
      `${protocol} messages are at least ${MIN_MESSAGE_BYTES[protocol]} bytes, got ${size}`,
    );
  if (protocol === 'echo-lp') {
    const msg = Buffer.allocUnsafe(size);
    msg.writeUInt32BE(size - 4, 0);
    msg[4] = 1;
    msg.writeUInt32BE(seq >>> 0, 5);
    filler(n, seq).copy(msg, 9);
    msg.writeUInt32BE(checksum(msg.subarray(5, 9 + n)), 9 + n);
    return msg;
  }
  const text = Buffer.concat([
    Buffer.from(seq.toString(16).padStart(8, '0').slice(-8), 'latin1'),
    filler(n, seq),
  ]);
  const crc = checksum(text).toString(16).padStart(8, '0');
  return Buffer.concat([Buffer.from('ECHO ', 'latin1'), text, Buffer.from(` ${crc}\n`, 'latin1')]);
}

/** Size of the echo of a `size`-byte request: raw echo returns it unchanged; echo-line answers `OK` for `ECHO`. */
export function echoedSize(protocol: WireProtocol, size: number, rawEcho: boolean): number {
  return protocol === 'echo-line' && !rawEcho ? size - 2 : size;
}

/**
 * True when `bytes` is exactly one intact message (request or response): echo-lp with its header, a line
 * with its `\n` (or without it, when `delimiterStripped`, as the line codec hands lines out). A fragment,
 * two messages stuck together or a damaged byte all give false.
 */
export function isIntactMessage(
  protocol: WireProtocol,
  bytes: Uint8Array,
  delimiterStripped = false,
): boolean {
  const buf = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (protocol === 'echo-lp') {
    if (buf.length < MIN_MESSAGE_BYTES['echo-lp'] || buf.readUInt32BE(0) !== buf.length - 4) return false;
    // op 1 (echo request, as a raw echo returns it) or status 0 (the server's ok response).
    if (buf[4] !== 0 && buf[4] !== 1) return false;
    const end = buf.length - 4;
    return checksum(buf.subarray(5, end)) === buf.readUInt32BE(end);
  }
  let end = buf.length;
  if (!delimiterStripped) {
    if (buf[end - 1] !== 10) return false;
    end--;
  }
  if (end > 0 && buf[end - 1] === 13) end--;
  const line = buf.subarray(0, end);
  if (line.includes(10)) return false;
  const firstSpace = line.indexOf(32);
  const lastSpace = line.lastIndexOf(32);
  if (firstSpace < 0 || lastSpace <= firstSpace || line.length - lastSpace !== 9) return false;
  const prefix = line.subarray(0, firstSpace).toString('latin1');
  if (prefix !== 'ECHO' && prefix !== 'OK') return false;
  const crc = line.subarray(lastSpace + 1).toString('latin1');
  return (
    /^[0-9a-f]{8}$/.test(crc) &&
    checksum(line.subarray(firstSpace + 1, lastSpace)) === Number.parseInt(crc, 16)
  );
}
