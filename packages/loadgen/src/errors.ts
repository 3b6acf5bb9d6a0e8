/**
 * Every error the load generators throw. Each has a stable `code` that callers (the bench orchestrator, tests)
 * switch on, and the context a user needs to act on it (command line, stderr tail, address).
 */

export type LoadgenErrorCode =
  | 'IOLAB_LOADGEN_SPAWN_FAILED'
  | 'IOLAB_LOADGEN_READY_TIMEOUT'
  | 'IOLAB_LOADGEN_CHILD_EXITED'
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

/** The child did not print its ready line within `readyTimeoutMs`. */
export class ReadyTimeoutError extends LoadgenError {
  readonly commandLine: string;
  readonly stderrTail: string;
  constructor(commandLine: string, timeoutMs: number, stderrTail: string) {
    super(
      'IOLAB_LOADGEN_READY_TIMEOUT',
      `${commandLine}: no ready line within ${timeoutMs} ms${stderrTail ? `; stderr: ${stderrTail}` : ''}`,
    );
    this.name = 'ReadyTimeoutError';
    this.commandLine = commandLine;
    this.stderrTail = stderrTail;
  }
}

/** The child exited before it was ready (bad arguments, port in use, crash). */
export class ChildExitedError extends LoadgenError {
  readonly commandLine: string;
  readonly exitCode: number | null;
  readonly exitSignal: NodeJS.Signals | null;
  readonly stderrTail: string;
  constructor(
    commandLine: string,
    exitCode: number | null,
    exitSignal: NodeJS.Signals | null,
    stderrTail: string,
  ) {
    super(
      'IOLAB_LOADGEN_CHILD_EXITED',
      `${commandLine}: exited before ready (code ${exitCode}, signal ${exitSignal})${stderrTail ? `; stderr: ${stderrTail}` : ''}`,
    );
    this.name = 'ChildExitedError';
    this.commandLine = commandLine;
    this.exitCode = exitCode;
    this.exitSignal = exitSignal;
    this.stderrTail = stderrTail;
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
