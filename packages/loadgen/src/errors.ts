/**
 * Every error the load generators throw. Each has a stable `code` that callers (the bench orchestrator, tests)
 * switch on, and the context a user needs to act on it (command line, stderr tail, address).
 */

export type LoadgenErrorCode =
  | 'IOLAB_LOADGEN_SPAWN_FAILED'
  | 'IOLAB_LOADGEN_ABORTED'
  | 'IOLAB_LOADGEN_BAD_OPTION'
  | 'IOLAB_LOADGEN_TOOL_MISSING'
  | 'IOLAB_LOADGEN_TOOL_OUTPUT'
  | 'IOLAB_LOADGEN_FD_LIMIT';

export class LoadgenError extends Error {
  readonly code: LoadgenErrorCode;
  constructor(code: LoadgenErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LoadgenError';
    this.code = code;
  }
}

/** The caller's AbortSignal fired. */
export class AbortedError extends LoadgenError {
  constructor(what: string) {
    super('IOLAB_LOADGEN_ABORTED', `${what}: aborted`);
    this.name = 'AbortedError';
  }
}

/** An option is out of range or inconsistent (e.g. open loop without a rate). */
export class BadOptionError extends LoadgenError {
  readonly option: string;
  constructor(option: string, message: string) {
    super('IOLAB_LOADGEN_BAD_OPTION', `${option}: ${message}`);
    this.name = 'BadOptionError';
    this.option = option;
  }
}

/**
 * The open-files limit a child generator inherits (`ulimit -n`) is below what the run needs. wrk does not
 * say so itself: a `socket()` that fails with EMFILE is counted as a connect error and that connection is
 * never retried, so the run would quietly use fewer connections than asked.
 */
export class FdLimitError extends LoadgenError {
  /** The inherited soft limit, when known. */
  readonly limit: number | undefined;
  readonly needed: number;
  constructor(what: string, limit: number | undefined, needed: number) {
    super(
      'IOLAB_LOADGEN_FD_LIMIT',
      `${what}: needs ${needed} open files but ulimit -n is ${limit ?? 'lower'}; raise it in the caller (ulimit -n ${needed}) and run again`,
    );
    this.name = 'FdLimitError';
    this.limit = limit;
    this.needed = needed;
  }
}
