/**
 * The one entry point a server model needs: a session for a protocol name, and what to write when it
 * refuses a connection.
 */

import { EchoLineServerCodec } from './echo-line/server-codec.js';
import { EchoLpServerCodec } from './echo-lp/server-codec.js';
import { FramedServerSession } from './framed-session.js';
import { HttpServerSession, httpFailure, httpRefusal } from './http/server-session.js';
import { resolveLimits, type SessionLimits } from './limits.js';
import type { ProtocolName, ServerSession } from './session.js';

/** All protocols, e.g. for a CLI's `--protocol` choices. */
export const PROTOCOL_NAMES: readonly ProtocolName[] = ['http', 'echo-lp', 'echo-line'];

export function isProtocolName(value: unknown): value is ProtocolName {
  return typeof value === 'string' && (PROTOCOL_NAMES as readonly string[]).includes(value);
}

/** A fresh session for one connection. Throws RangeError for an invalid limit (checked once, here). */
export function createSession(protocol: ProtocolName, limits?: SessionLimits): ServerSession {
  switch (protocol) {
    case 'http':
      return new HttpServerSession(limits);
    case 'echo-lp':
      return new FramedServerSession(new EchoLpServerCodec(resolveLimits(limits)), limits);
    case 'echo-line':
      return new FramedServerSession(new EchoLineServerCodec(resolveLimits(limits)), limits);
  }
}

const HTTP_REFUSAL = httpRefusal();
const NOTHING = new Uint8Array(0);

/**
 * Bytes to write to a connection the server will not serve (over `--max-threads`, pool queue full),
 * then close: HTTP `503 Service Unavailable` with `Connection: close`; nothing for framed protocols,
 * whose clients see the close. Shared, do not modify.
 */
export function refusalBytes(protocol: ProtocolName): Uint8Array {
  return protocol === 'http' ? HTTP_REFUSAL : NOTHING;
}

const HTTP_FAILURE = httpFailure();

/**
 * Bytes to write when the server itself failed on a connection (its session or a handler threw), then
 * close: HTTP `500 Internal Server Error` with `Connection: close`; nothing for framed protocols, whose
 * clients see the close (a framed reply would have to claim a request id it may not own). Shared, do not
 * modify.
 */
export function failureBytes(protocol: ProtocolName): Uint8Array {
  return protocol === 'http' ? HTTP_FAILURE : NOTHING;
}
