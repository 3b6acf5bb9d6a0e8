// Prefixes each payload with its length, as Netty's LengthFieldPrepender. The header is built apart from
// the payload so the payload is never copied: write both (socket.write twice, or writev via cork()).

import type { FrameEncoder } from './frame-decoder.js';
import type { ByteOrder, LengthFieldLength } from './length-field-decoder.js';

/** Options of {@link LengthFieldEncoder}; names and meaning are Netty's `LengthFieldPrepender`'s. */
export interface LengthFieldEncoderOptions {
  /** Width of the length field, or `'varint'` (unsigned LEB128). */
  lengthFieldLength: LengthFieldLength;
  /** Byte order of a fixed-width field. Default `'BE'`. */
  byteOrder?: ByteOrder;
  /** Added to the payload length before it is written. Default 0. */
  lengthAdjustment?: number;
  /** Count the length field itself in the written length. Default `false`; not with `'varint'`. */
  lengthIncludesLengthFieldLength?: boolean;
}

const FIELD_MAX: Record<number, number> = {
  1: 0xff,
  2: 0xffff,
  3: 0xffffff,
  4: 0xffffffff,
  8: Number.MAX_SAFE_INTEGER,
};

/**
 * Encodes frames for {@link LengthFieldDecoder}.
 *
 * ```text
 * lengthFieldLength = 2
 * payload (12 bytes)          encode() → [header, payload]   (the payload itself, not a copy)
 * +----------------+          +--------+  +----------------+
 * | "HELLO, WORLD" |--------->| 0x000C |  | "HELLO, WORLD" |
 * +----------------+          +--------+  +----------------+
 * ```
 *
 * The matching decoder: same `lengthFieldLength` and `byteOrder`, `lengthAdjustment` negated (and
 * additionally `-lengthFieldLength` when `lengthIncludesLengthFieldLength`), and `initialBytesToStrip`
 * equal to the header size to get the payload back.
 */
export class LengthFieldEncoder implements FrameEncoder {
  readonly #varint: boolean;
  readonly #fieldLength: number;
  readonly #littleEndian: boolean;
  readonly #extra: number;
  readonly #maxValue: number;

  constructor(options: LengthFieldEncoderOptions) {
    const { lengthFieldLength, byteOrder = 'BE', lengthAdjustment = 0 } = options;
    const includes = options.lengthIncludesLengthFieldLength ?? false;
    this.#varint = lengthFieldLength === 'varint';
    if (!this.#varint && FIELD_MAX[lengthFieldLength as number] === undefined) {
      throw new RangeError(
        `lengthFieldLength must be 1, 2, 3, 4, 8 or 'varint', got ${String(lengthFieldLength)}`,
      );
    }
    if (byteOrder !== 'BE' && byteOrder !== 'LE') {
      throw new RangeError(`byteOrder must be 'BE' or 'LE', got ${String(byteOrder)}`);
    }
    if (!Number.isSafeInteger(lengthAdjustment)) {
      throw new RangeError(`lengthAdjustment must be an integer, got ${lengthAdjustment}`);
    }
    if (this.#varint && includes) {
      throw new RangeError("lengthIncludesLengthFieldLength cannot be used with 'varint'");
    }
    this.#fieldLength = this.#varint ? 0 : (lengthFieldLength as number);
    this.#littleEndian = byteOrder === 'LE';
    this.#extra = lengthAdjustment + (includes ? this.#fieldLength : 0);
    this.#maxValue = this.#varint ? Number.MAX_SAFE_INTEGER : FIELD_MAX[this.#fieldLength]!;
  }

  /**
   * Returns `[header, payload]`: write both, in order. `payload` is returned as is (not copied), so it
   * must not change until written. Throws `RangeError` if the length does not fit the field.
   */
  encode(payload: Uint8Array): [Uint8Array, Uint8Array] {
    return [this.header(payload.length), payload];
  }

  /** Returns header and payload copied into one new buffer: one write, at the price of a copy. */
  encodeJoined(payload: Uint8Array): Uint8Array {
    const value = this.#value(payload.length);
    const headerLength = this.#varint ? varintLength(value) : this.#fieldLength;
    const out = Buffer.allocUnsafe(headerLength + payload.length);
    this.#writeHeader(out, value);
    out.set(payload, headerLength);
    return out;
  }

  /** The header alone for a payload of `payloadLength` bytes. */
  header(payloadLength: number): Uint8Array {
    const value = this.#value(payloadLength);
    const out = Buffer.allocUnsafe(this.#varint ? varintLength(value) : this.#fieldLength);
    this.#writeHeader(out, value);
    return out;
  }

  #value(payloadLength: number): number {
    const value = payloadLength + this.#extra;
    if (value < 0 || value > this.#maxValue) {
      throw new RangeError(
        `length ${value} does not fit a ${this.#varint ? 'varint' : `${this.#fieldLength}-byte`} field`,
      );
    }
    return value;
  }

  #writeHeader(out: Buffer, value: number): void {
    if (this.#varint) {
      let i = 0;
      while (value >= 0x80) {
        out[i++] = (value % 0x80) | 0x80;
        value = Math.floor(value / 0x80);
      }
      out[i] = value;
      return;
    }
    const le = this.#littleEndian;
    switch (this.#fieldLength) {
      case 1:
        out[0] = value;
        break;
      case 2:
        if (le) out.writeUInt16LE(value, 0);
        else out.writeUInt16BE(value, 0);
        break;
      case 3:
        if (le) out.writeUIntLE(value, 0, 3);
        else out.writeUIntBE(value, 0, 3);
        break;
      case 4:
        if (le) out.writeUInt32LE(value, 0);
        else out.writeUInt32BE(value, 0);
        break;
      default: {
        const high = Math.floor(value / 2 ** 32);
        const low = value >>> 0;
        if (le) {
          out.writeUInt32LE(low, 0);
          out.writeUInt32LE(high, 4);
        } else {
          out.writeUInt32BE(high, 0);
          out.writeUInt32BE(low, 4);
        }
      }
    }
  }
}

function varintLength(value: number): number {
  let length = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 0x80);
    length++;
  }
  return length;
}
