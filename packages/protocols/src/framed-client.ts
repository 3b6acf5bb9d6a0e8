/**
 * What the load generator needs to speak a framed protocol: encode a request, decode the replies.
 * One implementation per protocol (`echo-lp/client-codec.ts`, `echo-line/client-codec.ts`).
 */

import type { Operation } from './session.js';

/** The operations a framed protocol carries. */
export type FramedOperation = Extract<Operation, { kind: 'echo' | 'cpu' | 'sleep' }>;

/** One reply. `body` may be a view of a chunk you pushed: copy it if you keep it and reuse the chunk. */
export interface FramedResponse {
  readonly ok: boolean;
  /** ok: echo → the bytes, cpu → digest (raw 32 bytes for echo-lp, 64 hex chars for echo-line), sleep → empty. Error: the UTF-8 message. */
  readonly body: Uint8Array;
}

/**
 * Sans-I/O reply decoder: push received bytes, get the complete replies, in order. As with
 * `@iolab/framing`, the decoder may keep a reference to a pushed chunk until its reply completes: do not
 * modify a chunk after pushing it (socket `data` buffers are never reused by Node, so this is free there).
 */
export interface FramedResponseDecoder {
  /** Throws `FramedResponseError` (`IOLAB_FRAMED_BAD_RESPONSE`) on bytes that are not a valid reply stream. */
  push(chunk: Uint8Array): FramedResponse[];
}

export interface FramedClientCodec {
  encodeRequest(op: FramedOperation): Uint8Array;
  createResponseDecoder(): FramedResponseDecoder;
}
