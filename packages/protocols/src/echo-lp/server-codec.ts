/**
 * echo-lp, server side: length-prefixed requests in, length-prefixed replies out. Format and byte
 * diagrams: `wire-format.ts`.
 */

import { LengthFieldDecoder } from '@iolab/framing';
import type { FramedRequest, FramedServerCodec } from '../framed-session.js';
import type { ResolvedLimits } from '../limits.js';
import type { Operation, OperationResult } from '../session.js';
import {
  KIND_BYTES,
  LENGTH_FIELD_BYTES,
  OP_CPU,
  OP_ECHO,
  OP_SLEEP,
  STATUS_ERROR,
  STATUS_OK,
} from './wire-format.js';

const encoder = new TextEncoder();

/** `u32 BE length | status | payload`; the payload is not copied when large (a second buffer). */
export function encodeEchoLpReply(status: number, payload: Uint8Array): Uint8Array[] {
  const head = new Uint8Array(LENGTH_FIELD_BYTES + KIND_BYTES);
  new DataView(head.buffer).setUint32(0, KIND_BYTES + payload.length);
  head[LENGTH_FIELD_BYTES] = status;
  if (payload.length > 4096) return [head, payload];
  const out = new Uint8Array(head.length + payload.length);
  out.set(head);
  out.set(payload, head.length);
  return [out];
}

function u32Payload(frame: Uint8Array): number | undefined {
  if (frame.length !== KIND_BYTES + 4) return undefined;
  return new DataView(frame.buffer, frame.byteOffset + KIND_BYTES, 4).getUint32(0);
}

export class EchoLpServerCodec implements FramedServerCodec {
  readonly decoder: LengthFieldDecoder;

  constructor(limits: ResolvedLimits) {
    this.decoder = new LengthFieldDecoder({
      lengthFieldLength: LENGTH_FIELD_BYTES,
      initialBytesToStrip: LENGTH_FIELD_BYTES,
      // The cap counts the whole frame on the wire, as Netty: header + op + payload.
      maxFrameLength: LENGTH_FIELD_BYTES + KIND_BYTES + limits.maxBodyBytes,
    });
  }

  wireLength(frame: Uint8Array): number {
    return LENGTH_FIELD_BYTES + frame.length;
  }

  parse(frame: Uint8Array, limits: ResolvedLimits): FramedRequest {
    if (frame.length === 0)
      return { kind: 'error', code: 'IOLAB_FRAMED_BAD_REQUEST', message: 'empty frame: no op byte' };
    const op = frame[0]!;
    if (op === OP_ECHO) return { kind: 'operation', op: { kind: 'echo', body: frame.slice(KIND_BYTES) } };
    if (op === OP_CPU || op === OP_SLEEP) {
      const value = u32Payload(frame);
      const name = op === OP_CPU ? 'cpu rounds' : 'sleep ms';
      const cap = op === OP_CPU ? limits.maxCpuRounds : limits.maxSleepMs;
      if (value === undefined)
        return {
          kind: 'error',
          code: 'IOLAB_FRAMED_BAD_REQUEST',
          message: `${name} must be a 4-byte u32 BE payload`,
        };
      if (value > cap)
        return {
          kind: 'error',
          code: 'IOLAB_OPERATION_OUT_OF_RANGE',
          message: `${name} ${value} over the cap ${cap}`,
        };
      return {
        kind: 'operation',
        op: op === OP_CPU ? { kind: 'cpu', rounds: value } : { kind: 'sleep', ms: value },
      };
    }
    return { kind: 'error', code: 'IOLAB_FRAMED_BAD_REQUEST', message: `unknown op ${op}` };
  }

  encodeResult(kind: Operation['kind'], result: OperationResult): Uint8Array[] {
    if (!result.ok) return this.encodeError(result.message);
    return encodeEchoLpReply(STATUS_OK, kind === 'sleep' ? new Uint8Array(0) : result.body);
  }

  encodeError(message: string): Uint8Array[] {
    return encodeEchoLpReply(STATUS_ERROR, encoder.encode(message));
  }
}
