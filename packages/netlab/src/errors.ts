/** Errors of the network lab, each with a stable code a caller or test can match on. */

export type NetlabErrorCode =
  | 'IOLAB_LAB_NEEDS_ROOT'
  | 'IOLAB_LAB_MISSING_TOOL'
  | 'IOLAB_LAB_COMMAND_FAILED'
  | 'IOLAB_LAB_BAD_OPTION'
  | 'IOLAB_LAB_KEEPALIVED_FAILED';

export class NetlabError extends Error {
  readonly code: NetlabErrorCode;
  constructor(code: NetlabErrorCode, message: string) {
    super(message);
    this.name = 'NetlabError';
    this.code = code;
  }
}

/** Not root / no CAP_NET_ADMIN: the lab refuses before creating anything. */
export class LabNeedsRootError extends NetlabError {
  constructor(reason: string) {
    super('IOLAB_LAB_NEEDS_ROOT', reason);
    this.name = 'LabNeedsRootError';
  }
}

/** `ip`, `nft` or `keepalived` is not installed. */
export class LabMissingToolError extends NetlabError {
  readonly tool: string;
  constructor(tool: string) {
    super('IOLAB_LAB_MISSING_TOOL', `the network lab needs \`${tool}\`, which is not installed`);
    this.name = 'LabMissingToolError';
    this.tool = tool;
  }
}

/** A system command (`ip`, `nft`, `sysctl`) failed; carries the command line and its stderr. */
export class LabCommandError extends NetlabError {
  readonly command: string;
  readonly stderr: string;
  constructor(command: string, stderr: string) {
    super('IOLAB_LAB_COMMAND_FAILED', `\`${command}\` failed: ${stderr.trim().split('\n')[0] ?? ''}`);
    this.name = 'LabCommandError';
    this.command = command;
    this.stderr = stderr;
  }
}

export class LabBadOptionError extends NetlabError {
  constructor(message: string) {
    super('IOLAB_LAB_BAD_OPTION', message);
    this.name = 'LabBadOptionError';
  }
}

export class KeepalivedError extends NetlabError {
  constructor(message: string) {
    super('IOLAB_LAB_KEEPALIVED_FAILED', message);
    this.name = 'KeepalivedError';
  }
}
