/**
 * Errors raised by the shared server lifecycle and the blocking relay. Each carries a stable `code` that
 * tests and callers match on instead of the message text.
 */
export type IolabServerErrorCode =
  | 'IOLAB_SERVER_BAD_OPTION'
  | 'IOLAB_SERVER_NOT_STARTED'
  | 'IOLAB_RELAY_CLOSED'
  | 'IOLAB_RELAY_BAD_BUFFER'
  | ConnectionFailureCode;

/**
 * Why the server itself failed on one connection (never the peer's bad bytes: the session answers those
 * with 4xx or a framed error). Each failure closes that connection only, is counted in `errors` and logged.
 *
 * - `IOLAB_SERVER_SESSION_FAILED`: the protocol session threw on input or a completion (a bug in parsing
 *   or protocol code); HTTP gets 500, then close.
 * - `IOLAB_SERVER_HANDLER_FAILED`: an operation threw or rejected; it is answered 500 in order, and the
 *   connection closes once what is in flight is answered.
 * - `IOLAB_SERVER_THREAD_FAILED`: the thread serving a connection died or threw past its own guard (bio
 *   thread, pool connection task), or the pool thread running an operation failed.
 * - `IOLAB_SERVER_DISPATCH_FAILED`: the connection or operation could not be handed to a thread (a
 *   `new Worker` that failed, a task that could not be posted).
 */
export type ConnectionFailureCode =
  | 'IOLAB_SERVER_SESSION_FAILED'
  | 'IOLAB_SERVER_HANDLER_FAILED'
  | 'IOLAB_SERVER_THREAD_FAILED'
  | 'IOLAB_SERVER_DISPATCH_FAILED';

export class IolabServerError extends Error {
  readonly code: IolabServerErrorCode;
  constructor(code: IolabServerErrorCode, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}

/** An option is out of range or of the wrong type; `option` names it as the user wrote it. */
export class InvalidServerOptionError extends IolabServerError {
  readonly option: string;
  readonly value: unknown;
  constructor(option: string, value: unknown, expected: string) {
    super('IOLAB_SERVER_BAD_OPTION', `invalid ${option}: ${JSON.stringify(value)} (expected ${expected})`);
    this.option = option;
    this.value = value;
  }
}

/** The peer is gone or the server forced the connection shut while a blocking write was waiting. */
export class RelayClosedError extends IolabServerError {
  constructor(reason: string) {
    super('IOLAB_RELAY_CLOSED', `relay closed: ${reason}`);
  }
}

/** A SharedArrayBuffer handed to the blocking socket was not made by `createRelayBuffer`. */
export class RelayBufferError extends IolabServerError {
  readonly byteLength: number;
  constructor(message: string, byteLength: number) {
    super('IOLAB_RELAY_BAD_BUFFER', `${message} (buffer of ${byteLength} bytes)`);
    this.byteLength = byteLength;
  }
}

/**
 * The server failed on one connection (see `ConnectionFailureCode`). `connectionId` is the server's id of
 * the connection when known; `cause` is what was thrown (only its message crosses a thread boundary).
 */
export class ConnectionFailedError extends IolabServerError {
  declare readonly code: ConnectionFailureCode;
  readonly connectionId: number | undefined;
  constructor(code: ConnectionFailureCode, cause: unknown, connectionId?: number) {
    super(code, describeThrown(cause));
    this.connectionId = connectionId;
    this.cause = cause;
  }
}

/** `Name: message` of anything thrown, including non-Errors and errors cloned from another thread. */
export function describeThrown(thrown: unknown): string {
  if (thrown instanceof Error) {
    const code = (thrown as { code?: unknown }).code;
    return `${thrown.name}${typeof code === 'string' ? ` [${code}]` : ''}: ${thrown.message}`;
  }
  return String(thrown);
}
