/**
 * Errors raised by the shared server lifecycle and the blocking relay. Each carries a stable `code` that
 * tests and callers match on instead of the message text.
 */
export type IolabServerErrorCode =
  | 'IOLAB_SERVER_BAD_OPTION'
  | 'IOLAB_SERVER_NOT_STARTED'
  | 'IOLAB_RELAY_CLOSED'
  | 'IOLAB_RELAY_BAD_BUFFER';

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
