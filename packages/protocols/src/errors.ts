/**
 * Every error this package raises or reports, each with a stable `code` that tests and callers match on.
 *
 * Protocol errors found in peer input are not thrown at the server model: a session turns them into the
 * right response (400/431/413/..., an `ERR` line, an error frame) whose text starts with the code, e.g.
 * `IOLAB_HTTP_BAD_REQUEST: bare LF (at byte 17)`. Codes without a class below appear only in such texts:
 * `IOLAB_FRAMED_BAD_REQUEST` (a well-framed request that makes no sense) and
 * `IOLAB_OPERATION_OUT_OF_RANGE` (`/cpu?n=`, `SLEEP`, … over its cap) and `IOLAB_PIPELINE_TOO_DEEP` (a
 * model kept reading past `maxPausedInputBytes` while the session was paused).
 */

export type IolabProtocolErrorCode =
  | 'IOLAB_HTTP_BAD_REQUEST'
  | 'IOLAB_HTTP_URI_TOO_LONG'
  | 'IOLAB_HTTP_HEADERS_TOO_LARGE'
  | 'IOLAB_HTTP_BODY_TOO_LARGE'
  | 'IOLAB_HTTP_VERSION_NOT_SUPPORTED'
  | 'IOLAB_HTTP_NOT_IMPLEMENTED'
  | 'IOLAB_FRAMED_BAD_REQUEST'
  | 'IOLAB_FRAMED_BAD_RESPONSE'
  | 'IOLAB_PIPELINE_TOO_DEEP'
  | 'IOLAB_SESSION_UNKNOWN_WORK'
  | 'IOLAB_OPERATION_OUT_OF_RANGE';

/** Base class: a stable `code` plus a human message. */
export class IolabProtocolError extends Error {
  readonly code: IolabProtocolErrorCode;

  constructor(code: IolabProtocolErrorCode, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Which HTTP status a request-parse failure maps to. */
export type HttpErrorStatus = 400 | 413 | 414 | 431 | 501 | 505;

/**
 * The peer's HTTP bytes broke the grammar or a limit. `offset` counts bytes from the start of the
 * connection (not of the request), so a log line points at the exact byte in a capture.
 */
export class HttpProtocolError extends IolabProtocolError {
  readonly status: HttpErrorStatus;
  readonly offset: number;

  constructor(code: IolabProtocolErrorCode, status: HttpErrorStatus, message: string, offset: number) {
    super(code, `${message} (at byte ${offset})`);
    this.status = status;
    this.offset = offset;
  }
}

export function httpBadRequest(message: string, offset: number): HttpProtocolError {
  return new HttpProtocolError('IOLAB_HTTP_BAD_REQUEST', 400, message, offset);
}

/** The server sent bytes a client codec cannot read (loadgen side). */
export class FramedResponseError extends IolabProtocolError {
  readonly offset: number;

  constructor(message: string, offset: number) {
    super('IOLAB_FRAMED_BAD_RESPONSE', `${message} (at byte ${offset})`);
    this.offset = offset;
  }
}

/** The server model completed a work id the session never issued or already completed: a model bug. */
export class UnknownWorkError extends IolabProtocolError {
  readonly id: number;

  constructor(id: number) {
    super('IOLAB_SESSION_UNKNOWN_WORK', `complete(${id}): no such pending work`);
    this.id = id;
  }
}
