/**
 * echo-line, client side (for the load generator). Format: `wire-format.ts`.
 */

import { FramingError, LineDecoder } from '@iolab/framing';
import { FramedResponseError } from '../errors.js';
import type {
  FramedClientCodec,
  FramedOperation,
  FramedResponse,
  FramedResponseDecoder,
} from '../framed-client.js';
import { DEFAULT_MAX_BODY_BYTES } from '../limits.js';
import { CR, LF } from './wire-format.js';

const encoder = new TextEncoder();

function checkCount(name: string, value: number): number {
  if (!Number.isSafeInteger(value) || value < 0)
    throw new RangeError(`${name} must be a non-negative integer`);
  return value;
}

/**
 * One request line, ready to write: `ECHO <text>\n`, `CPU <rounds>\n` or `SLEEP <ms>\n`.
 * Throws RangeError for an echo text with `\n` or a trailing `\r` (it would not survive the trip).
 */
export function encodeEchoLineRequest(op: FramedOperation): Uint8Array {
  if (op.kind === 'cpu') return encoder.encode(`CPU ${checkCount('cpu rounds', op.rounds)}\n`);
  if (op.kind === 'sleep') return encoder.encode(`SLEEP ${checkCount('sleep ms', op.ms)}\n`);
  if (op.body.includes(LF) || op.body.at(-1) === CR) {
    throw new RangeError('echo-line text must not contain \\n or end with \\r');
  }
  const out = new Uint8Array(5 + op.body.length + 1);
  out.set(encoder.encode('ECHO '));
  out.set(op.body, 5);
  out[out.length - 1] = LF;
  return out;
}

export interface EchoLineResponseDecoderOptions {
  /** Longest reply line accepted; default the server's own default body cap plus room for `OK `. */
  readonly maxBodyBytes?: number;
}

function startsWith(line: Uint8Array, word: string): boolean {
  if (line.length < word.length) return false;
  for (let i = 0; i < word.length; i++) if (line[i] !== word.charCodeAt(i)) return false;
  return true;
}

/** Reads `OK[ <text>]\n` / `ERR <message>\n` replies. */
export class EchoLineResponseDecoder implements FramedResponseDecoder {
  readonly #decoder: LineDecoder;
  #offset = 0;

  constructor(options: EchoLineResponseDecoderOptions = {}) {
    // Delimiters kept so the byte offset of each reply (for errors) is exact.
    this.#decoder = new LineDecoder({
      maxFrameLength: (options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES) + 4,
      stripDelimiter: false,
    });
  }

  push(chunk: Uint8Array): FramedResponse[] {
    let lines: Uint8Array[];
    try {
      lines = this.#decoder.push(chunk);
    } catch (error) {
      if (error instanceof FramingError) {
        throw new FramedResponseError(`bad reply line: ${error.code} ${error.message}`, error.offset);
      }
      throw error;
    }
    const out: FramedResponse[] = [];
    for (const frame of lines) {
      const at = this.#offset;
      this.#offset += frame.length;
      let end = frame.length - 1; // every frame ends with \n
      if (end > 0 && frame[end - 1] === CR) end--;
      const line = frame.subarray(0, end);
      if (line.length === 2 && startsWith(line, 'OK')) out.push({ ok: true, body: line.subarray(2) });
      else if (startsWith(line, 'OK ')) out.push({ ok: true, body: line.subarray(3) });
      else if (startsWith(line, 'ERR ')) out.push({ ok: false, body: line.subarray(4) });
      else throw new FramedResponseError('reply line is neither OK nor ERR', at);
    }
    return out;
  }
}

export const echoLineClientCodec: FramedClientCodec = {
  encodeRequest: encodeEchoLineRequest,
  createResponseDecoder: () => new EchoLineResponseDecoder(),
};
