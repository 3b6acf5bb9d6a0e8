/**
 * HTTP/1.1 response bytes. Every response carries Content-Length (never chunked: we always know the body)
 * and Content-Type; no Date header, so bytes are deterministic and tests can compare them exactly.
 *
 *   HTTP/1.1 200 OK\r\n
 *   Content-Type: text/plain\r\n
 *   Content-Length: 13\r\n
 *   Connection: close\r\n          ← only when the server closes after it (or `keep-alive` for HTTP/1.0)
 *   \r\n
 *   Hello, World!
 */

const REASONS: Readonly<Record<number, string>> = {
  200: 'OK',
  400: 'Bad Request',
  404: 'Not Found',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  413: 'Content Too Large',
  414: 'URI Too Long',
  431: 'Request Header Fields Too Large',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  503: 'Service Unavailable',
  505: 'HTTP Version Not Supported',
};

/** Bodies up to this are copied behind the head so the model does one write; larger go as a 2nd buffer. */
const COALESCE_BODY_BYTES = 16 * 1024;

const encoder = new TextEncoder();

/**
 * Responses are Buffers (a Uint8Array subclass, so the type says Uint8Array): `socket.write` wraps any
 * other Uint8Array in a new Buffer on every write, and cached responses are written 100k+ times a second.
 * The wrap shares the memory, no copy.
 */
function asBuffer(bytes: Uint8Array): Uint8Array {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

export type ConnectionHeader = 'close' | 'keep-alive' | undefined;

export interface ResponseSpec {
  readonly status: number;
  readonly contentType: string;
  readonly body: Uint8Array;
  readonly connection: ConnectionHeader;
  /** HEAD: send the headers of the GET response, no body. */
  readonly omitBody?: boolean;
  /** For 405 (RFC 9110 §15.5.6: MUST list the allowed methods). */
  readonly allow?: string;
}

export function writeResponse(spec: ResponseSpec): Uint8Array[] {
  let head = `HTTP/1.1 ${spec.status} ${REASONS[spec.status] ?? 'Unknown'}\r\nContent-Type: ${spec.contentType}\r\nContent-Length: ${spec.body.length}\r\n`;
  if (spec.allow !== undefined) head += `Allow: ${spec.allow}\r\n`;
  if (spec.connection !== undefined) head += `Connection: ${spec.connection}\r\n`;
  head += '\r\n';
  const headBytes = asBuffer(encoder.encode(head));
  if (spec.omitBody || spec.body.length === 0) return [headBytes];
  if (spec.body.length > COALESCE_BODY_BYTES) return [headBytes, spec.body];
  const out = Buffer.allocUnsafeSlow(headBytes.length + spec.body.length);
  out.set(headBytes, 0);
  out.set(spec.body, headBytes.length);
  return [out];
}

/** A short text/plain response, e.g. an error. */
export function writeTextResponse(
  status: number,
  text: string,
  connection: ConnectionHeader,
  options: { readonly allow?: string; readonly omitBody?: boolean } = {},
): Uint8Array[] {
  return writeResponse({
    status,
    contentType: 'text/plain',
    body: encoder.encode(text),
    connection,
    ...options,
  });
}

/** The interim reply to `Expect: 100-continue` (RFC 9110 §10.1.1). */
export const CONTINUE_RESPONSE = asBuffer(encoder.encode('HTTP/1.1 100 Continue\r\n\r\n'));
