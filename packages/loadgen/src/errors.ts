/**
 * Every error the load generators throw. Each has a stable `code` that callers (the bench orchestrator, tests)
 * switch on, and the context a user needs to act on it (command line, stderr tail, address).
 */

export type LoadgenErrorCode =
  | 'IOLAB_LOADGEN_SPAWN_FAILED'
  | 'IOLAB_LOADGEN_ABORTED'
  | 'IOLAB_LOADGEN_BAD_OPTION'
  | 'IOLAB_LOADGEN_TOOL_MISSING'
  | 'IOLAB_LOADGEN_TOOL_OUTPUT';

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
