/**
 * echo-lp, client side (for the load generator). Format and byte diagrams: `wire-format.ts`.
 */

import { FramingError, LengthFieldDecoder } from '@iolab/framing';
import { FramedResponseError } from '../errors.js';
import type {
  FramedClientCodec,
  FramedOperation,
  FramedResponse,
  FramedResponseDecoder,
} from '../framed-client.js';
import { DEFAULT_MAX_BODY_BYTES } from '../limits.js';
import {
  KIND_BYTES,
  LENGTH_FIELD_BYTES,
  OP_CPU,
  OP_ECHO,
  OP_SLEEP,
  STATUS_ERROR,
  STATUS_OK,
} from './wire-format.js';

function checkU32(name: string, value: number): number {
  if (!Number.isInteger(value) || value < 0 || value > 0xffff_ffff) {
    throw new RangeError(`${name} must be a u32, got ${value}`);
  }
  return value;
}

/**
 * One request frame, ready to write:
 *
 * ```text
 * encodeEchoLpRequest({ kind: 'cpu', rounds: 1000 })  →  00 00 00 05 | 02 | 00 00 03 e8
 * ```
 */
export function encodeEchoLpRequest(op: FramedOperation): Uint8Array {
  const payloadLength = op.kind === 'echo' ? op.body.length : 4;
  const out = new Uint8Array(LENGTH_FIELD_BYTES + KIND_BYTES + payloadLength);
  const view = new DataView(out.buffer);
  view.setUint32(0, KIND_BYTES + payloadLength);
  const at = LENGTH_FIELD_BYTES + KIND_BYTES;
  if (op.kind === 'echo') {
    out[LENGTH_FIELD_BYTES] = OP_ECHO;
    out.set(op.body, at);
  } else if (op.kind === 'cpu') {
    out[LENGTH_FIELD_BYTES] = OP_CPU;
    view.setUint32(at, checkU32('cpu rounds', op.rounds));
  } else {
    out[LENGTH_FIELD_BYTES] = OP_SLEEP;
    view.setUint32(at, checkU32('sleep ms', op.ms));
  }
  return out;
}

export interface EchoLpResponseDecoderOptions {
  /** Largest reply payload accepted; default the server's own default body cap. */
  readonly maxBodyBytes?: number;
}

/** Reads `u32 BE length | status | payload` replies. */
export class EchoLpResponseDecoder implements FramedResponseDecoder {
  readonly #decoder: LengthFieldDecoder;
  #offset = 0;

  constructor(options: EchoLpResponseDecoderOptions = {}) {
    this.#decoder = new LengthFieldDecoder({
      lengthFieldLength: LENGTH_FIELD_BYTES,
      initialBytesToStrip: LENGTH_FIELD_BYTES,
      maxFrameLength: LENGTH_FIELD_BYTES + KIND_BYTES + (options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES),
    });
  }

  push(chunk: Uint8Array): FramedResponse[] {
    let frames: Uint8Array[];
    try {
      frames = this.#decoder.push(chunk);
    } catch (error) {
      if (error instanceof FramingError) {
        throw new FramedResponseError(`bad reply frame: ${error.code} ${error.message}`, error.offset);
      }
      throw error;
    }
    const out: FramedResponse[] = [];
    for (const f of frames) {
      const status = f[0];
      if (status !== STATUS_OK && status !== STATUS_ERROR) {
        throw new FramedResponseError(
          `reply status must be 0 or 1, got ${status}`,
          this.#offset + LENGTH_FIELD_BYTES,
        );
      }
      out.push({ ok: status === STATUS_OK, body: f.subarray(KIND_BYTES) });
      this.#offset += LENGTH_FIELD_BYTES + f.length;
    }
    return out;
  }
}

export const echoLpClientCodec: FramedClientCodec = {
  encodeRequest: encodeEchoLpRequest,
  createResponseDecoder: () => new EchoLpResponseDecoder(),
};
