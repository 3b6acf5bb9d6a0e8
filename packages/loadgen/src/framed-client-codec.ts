/**
 * What the framed generator sends: requests built with `@iolab/protocols`' client codecs, whose echo
 * payloads carry the request's sequence number so that a stale, swapped or damaged response fails
 * verification. The wire formats and their byte diagrams live in `@iolab/protocols` (echo-lp: `u32 BE
 * length | u8 op | payload` → `u32 BE length | u8 status | payload`; echo-line: `ECHO <text>\n` → `OK <text>\n`).
 */
import {
  DEFAULT_MAX_BODY_BYTES,
  EchoLineResponseDecoder,
  EchoLpResponseDecoder,
  encodeEchoLineRequest,
  encodeEchoLpRequest,
  type FramedResponseDecoder,
} from '@iolab/protocols';
import { BadOptionError } from './errors.js';

export type FramedProtocol = 'echo-lp' | 'echo-line';

/** What each request asks the server to do. */
export type FramedOp =
  | { readonly kind: 'echo'; readonly size: number }
  | { readonly kind: 'cpu'; readonly rounds: number }
  | { readonly kind: 'sleep'; readonly ms: number };

export interface EncodedRequest {
  readonly bytes: Uint8Array;
  /** The body an `ok` response must carry, when the op's answer is known (echo). */
  readonly expect: Buffer | undefined;
}

/** Throws {@link BadOptionError} for an op the frame format or the server's default limits cannot carry. */
export function checkOp(op: FramedOp): void {
  const value = op.kind === 'echo' ? op.size : op.kind === 'cpu' ? op.rounds : op.ms;
  if (!Number.isSafeInteger(value) || value < 0 || value > 0xffff_ffff) {
    throw new BadOptionError(`op.${op.kind}`, `must be an integer in [0, 2^32), got ${value}`);
  }
  if (op.kind === 'echo' && op.size > DEFAULT_MAX_BODY_BYTES) {
    throw new BadOptionError(
      'op.size',
      `must be ≤ ${DEFAULT_MAX_BODY_BYTES} (the servers' body cap), got ${op.size}`,
    );
  }
}

/** Printable filler (echo-line text must not contain `\n`) with the sequence number written over its start. */
function echoBody(protocol: FramedProtocol, size: number, seq: number): Buffer {
  const buf = Buffer.allocUnsafe(size);
  for (let i = 0; i < size; i++) buf[i] = 97 + ((seq + i) % 26);
  if (protocol === 'echo-line') buf.write(seq.toString(36).slice(0, size), 0, 'latin1');
  else if (size >= 4) buf.writeUInt32BE(seq >>> 0, 0);
  return buf;
}

/** One request, with its sequence number woven into echo payloads. */
export function encodeRequest(protocol: FramedProtocol, op: FramedOp, seq: number): EncodedRequest {
  const encode = protocol === 'echo-lp' ? encodeEchoLpRequest : encodeEchoLineRequest;
  if (op.kind === 'echo') {
    const body = echoBody(protocol, op.size, seq);
    return { bytes: encode({ kind: 'echo', body }), expect: body };
  }
  return { bytes: encode(op), expect: undefined };
}

/** A fresh decoder for one connection's response stream (throws `IOLAB_FRAMED_BAD_RESPONSE` on garbage). */
export function responseDecoder(protocol: FramedProtocol, op: FramedOp): FramedResponseDecoder {
  const maxBodyBytes = Math.max(DEFAULT_MAX_BODY_BYTES, op.kind === 'echo' ? op.size : 0);
  return protocol === 'echo-lp'
    ? new EchoLpResponseDecoder({ maxBodyBytes })
    : new EchoLineResponseDecoder({ maxBodyBytes });
}
