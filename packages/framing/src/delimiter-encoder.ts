// Appends a delimiter to each payload. The payload is not copied; it is checked for the delimiter,
// because a payload that contains it would arrive as two frames — a framing-injection bug.

import type { Delimiter } from './delimiter-decoder.js';
import type { FrameEncoder } from './frame-decoder.js';

/** Options of {@link DelimiterEncoder}. */
export interface DelimiterEncoderOptions {
  /** Appended after every payload; a string is written as UTF-8. */
  delimiter: Delimiter;
  /**
   * Refuse (RangeError) a payload that contains the delimiter. Default `true`; turn off only when payloads
   * cannot contain it by construction (the check is one memchr/memmem pass over the payload).
   */
  checkPayload?: boolean;
}

/**
 * Encodes frames for {@link DelimiterDecoder} / {@link LineDecoder}.
 *
 * ```text
 * delimiter = '\n'
 * payload (5 bytes)     encode() → [payload, delimiter]   (the payload itself, not a copy)
 * +---------+           +---------+  +------+
 * | "hello" |---------->| "hello" |  | 0x0A |
 * +---------+           +---------+  +------+
 * ```
 */
export class DelimiterEncoder implements FrameEncoder {
  readonly #delimiter: Buffer;
  readonly #check: boolean;

  constructor(options: DelimiterEncoderOptions) {
    const { delimiter } = options;
    this.#delimiter = typeof delimiter === 'string' ? Buffer.from(delimiter, 'utf8') : Buffer.from(delimiter);
    if (this.#delimiter.length === 0) throw new RangeError('the delimiter cannot be empty');
    this.#check = options.checkPayload ?? true;
  }

  /**
   * Returns `[payload, delimiter]`: write both, in order. `payload` is returned as is (not copied); the
   * delimiter array is shared between calls and must not be modified.
   */
  encode(payload: Uint8Array): [Uint8Array, Uint8Array] {
    this.#checkPayload(payload);
    return [payload, this.#delimiter];
  }

  /** Returns payload and delimiter copied into one new buffer: one write, at the price of a copy. */
  encodeJoined(payload: Uint8Array): Uint8Array {
    this.#checkPayload(payload);
    const out = Buffer.allocUnsafe(payload.length + this.#delimiter.length);
    out.set(payload, 0);
    out.set(this.#delimiter, payload.length);
    return out;
  }

  #checkPayload(payload: Uint8Array): void {
    if (!this.#check) return;
    const view = Buffer.isBuffer(payload)
      ? payload
      : Buffer.from(payload.buffer, payload.byteOffset, payload.length);
    const at = view.indexOf(this.#delimiter);
    if (at >= 0) throw new RangeError(`payload contains the delimiter at byte ${at}`);
  }
}
