/**
 * echo-line, server side: one command line in, one reply line out. Format: `wire-format.ts`.
 */

import { LineDecoder } from '@iolab/framing';
import type { FramedRequest, FramedServerCodec } from '../framed-session.js';
import type { ResolvedLimits } from '../limits.js';
import { cpuDigestHex } from '../operations.js';
import type { Operation, OperationResult } from '../session.js';
import { COMMAND_OVERHEAD_BYTES, CR, LF, SPACE } from './wire-format.js';

const encoder = new TextEncoder();
const OK = encoder.encode('OK');
const ERR = encoder.encode('ERR ');

function asciiEquals(bytes: Uint8Array, word: string): boolean {
  if (bytes.length !== word.length) return false;
  for (let i = 0; i < word.length; i++) if (bytes[i] !== word.charCodeAt(i)) return false;
  return true;
}

/** `OK\n`, or `OK <text>\n`. */
function okLine(text: Uint8Array): Uint8Array {
  const out = new Uint8Array(OK.length + (text.length > 0 ? 1 + text.length : 0) + 1);
  out.set(OK);
  if (text.length > 0) {
    out[OK.length] = SPACE;
    out.set(text, OK.length + 1);
  }
  out[out.length - 1] = LF;
  return out;
}

export class EchoLineServerCodec implements FramedServerCodec {
  readonly decoder: LineDecoder;

  constructor(limits: ResolvedLimits) {
    // Delimiters kept so each frame's wire length is exact (see FramedServerCodec.wireLength).
    this.decoder = new LineDecoder({
      maxFrameLength: limits.maxBodyBytes + COMMAND_OVERHEAD_BYTES,
      stripDelimiter: false,
    });
  }

  wireLength(frame: Uint8Array): number {
    return frame.length;
  }

  parse(frame: Uint8Array, limits: ResolvedLimits): FramedRequest {
    let end = frame.length;
    if (end > 0 && frame[end - 1] === LF) end--;
    if (end > 0 && frame[end - 1] === CR) end--;
    const line = frame.subarray(0, end);
    const space = line.indexOf(SPACE);
    const word = space === -1 ? line : line.subarray(0, space);
    const arg = space === -1 ? line.subarray(end) : line.subarray(space + 1);
    if (asciiEquals(word, 'ECHO')) return { kind: 'operation', op: { kind: 'echo', body: arg.slice() } };
    const isCpu = asciiEquals(word, 'CPU');
    if (isCpu || asciiEquals(word, 'SLEEP')) {
      const digits = new TextDecoder().decode(arg);
      const name = isCpu ? 'CPU rounds' : 'SLEEP ms';
      const cap = isCpu ? limits.maxCpuRounds : limits.maxSleepMs;
      if (!/^[0-9]{1,15}$/.test(digits) || Number(digits) > cap) {
        return {
          kind: 'error',
          code: 'IOLAB_OPERATION_OUT_OF_RANGE',
          message: `${name} must be an integer from 0 to ${cap}`,
        };
      }
      const n = Number(digits);
      return { kind: 'operation', op: isCpu ? { kind: 'cpu', rounds: n } : { kind: 'sleep', ms: n } };
    }
    return {
      kind: 'error',
      code: 'IOLAB_FRAMED_BAD_REQUEST',
      message: 'unknown command: expected ECHO, CPU or SLEEP',
    };
  }

  encodeResult(kind: Operation['kind'], result: OperationResult): Uint8Array[] {
    if (!result.ok) return this.encodeError(result.message);
    if (kind === 'cpu') return [okLine(cpuDigestHex(result.body))];
    if (kind === 'sleep') return [okLine(new Uint8Array(0))];
    return [okLine(result.body)];
  }

  encodeError(message: string): Uint8Array[] {
    // A message must stay one line whatever it quotes.
    const body = encoder.encode(message.replace(/[\r\n]/g, ' '));
    const out = new Uint8Array(ERR.length + body.length + 1);
    out.set(ERR);
    out.set(body, ERR.length);
    out[out.length - 1] = LF;
    return [out];
  }
}
