/**
 * Every error the harness throws. Each has a stable `code` that callers (the bench orchestrator, experiments,
 * tests) switch on, and the context a user needs to act on it (command line, stderr tail).
 */

export type HarnessErrorCode =
  | 'IOLAB_HARNESS_SPAWN_FAILED'
  | 'IOLAB_HARNESS_READY_TIMEOUT'
  | 'IOLAB_HARNESS_CHILD_EXITED'
  | 'IOLAB_HARNESS_ABORTED'
  | 'IOLAB_HARNESS_BAD_OPTION';

export class HarnessError extends Error {
  readonly code: HarnessErrorCode;
  constructor(code: HarnessErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'HarnessError';
    this.code = code;
  }
}

/** The child did not print its ready line within `readyTimeoutMs`. */
export class ReadyTimeoutError extends HarnessError {
  readonly commandLine: string;
  readonly stderrTail: string;
  constructor(commandLine: string, timeoutMs: number, stderrTail: string) {
    super(
      'IOLAB_HARNESS_READY_TIMEOUT',
      `${commandLine}: no ready line within ${timeoutMs} ms${stderrTail ? `; stderr: ${stderrTail}` : ''}`,
    );
    this.name = 'ReadyTimeoutError';
    this.commandLine = commandLine;
    this.stderrTail = stderrTail;
  }
}

/** The child exited before it was ready (bad arguments, port in use, crash). */
export class ChildExitedError extends HarnessError {
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
      'IOLAB_HARNESS_CHILD_EXITED',
      `${commandLine}: exited before ready (code ${exitCode}, signal ${exitSignal})${stderrTail ? `; stderr: ${stderrTail}` : ''}`,
    );
    this.name = 'ChildExitedError';
    this.commandLine = commandLine;
    this.exitCode = exitCode;
    this.exitSignal = exitSignal;
    this.stderrTail = stderrTail;
  }
}

/** The caller's AbortSignal fired before the child was ready. */
export class ProcessAbortedError extends HarnessError {
  constructor(what: string) {
    super('IOLAB_HARNESS_ABORTED', `${what}: aborted`);
    this.name = 'ProcessAbortedError';
  }
}

/** An option is out of range (e.g. a negative CPU number). */
export class HarnessOptionError extends HarnessError {
  readonly option: string;
  constructor(option: string, message: string) {
    super('IOLAB_HARNESS_BAD_OPTION', `${option}: ${message}`);
    this.name = 'HarnessOptionError';
    this.option = option;
  }
}
