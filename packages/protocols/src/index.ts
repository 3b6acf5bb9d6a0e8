/**
 * `@iolab/protocols` — sans-I/O HTTP/1.1 and framed echo sessions shared by every iolab server model,
 * the operations they carry, and the client codecs the load generator speaks the framed protocols with.
 *
 * @packageDocumentation
 */

export {
  createSession,
  failureBytes,
  isProtocolName,
  PROTOCOL_NAMES,
  refusalBytes,
} from './create-session.js';
export {
  EchoLineResponseDecoder,
  type EchoLineResponseDecoderOptions,
  echoLineClientCodec,
  encodeEchoLineRequest,
} from './echo-line/client-codec.js';
export {
  EchoLpResponseDecoder,
  type EchoLpResponseDecoderOptions,
  echoLpClientCodec,
  encodeEchoLpRequest,
} from './echo-lp/client-codec.js';
export {
  FramedResponseError,
  type HttpErrorStatus,
  HttpProtocolError,
  IolabProtocolError,
  type IolabProtocolErrorCode,
  UnknownWorkError,
} from './errors.js';
export type {
  FramedClientCodec,
  FramedOperation,
  FramedResponse,
  FramedResponseDecoder,
} from './framed-client.js';
// Used by @iolab/server-loop's node:http reference so it serves exactly the same routes (added by the server-models helper).
export { type RouteDecision, route } from './http/routes.js';
export {
  DEFAULT_MAX_BODY_BYTES,
  DEFAULT_MAX_CHUNK_LINE_BYTES,
  DEFAULT_MAX_CPU_ROUNDS,
  DEFAULT_MAX_HEADER_BYTES,
  DEFAULT_MAX_HEADER_COUNT,
  DEFAULT_MAX_PAUSED_INPUT_BYTES,
  DEFAULT_MAX_PIPELINE_DEPTH,
  DEFAULT_MAX_REQUEST_LINE_BYTES,
  DEFAULT_MAX_SLEEP_MS,
  type ResolvedLimits,
  resolveLimits,
  type SessionLimits,
} from './limits.js';
export {
  blockingSleep,
  cpuDigest,
  cpuDigestHex,
  JSON_BODY,
  PLAINTEXT_BODY,
  runOperationSync,
} from './operations.js';
export { runOperation } from './run-operation-async.js';
export type {
  Operation,
  OperationResult,
  ProtocolName,
  Receiving,
  RunNow,
  ServerSession,
  SessionOutput,
  SessionRejection,
  Work,
} from './session.js';
