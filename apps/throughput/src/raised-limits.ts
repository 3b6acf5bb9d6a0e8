/**
 * Children that hold thousands of sockets need a higher open-files limit than a default shell gives (1,024).
 * A process cannot raise another's limit, so each child is started through `sh -c` that raises its own soft
 * limit as far as the hard limit allows and then `exec`s the real command (same pid, so stop() and /proc
 * sampling still reach it).
 */

/** What the children ask for: enough for 10,000 connections plus the process's own files. */
export const WANTED_NOFILE = 65_535;

const RAISE = `ulimit -n ${WANTED_NOFILE} 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$@"`;

/** `[command, args]` that run `argv` with the open-files limit raised. */
export function withRaisedNoFile(argv: readonly string[]): { command: string; args: string[] } {
  return { command: '/bin/sh', args: ['-c', RAISE, 'sh', ...argv] };
}

/** The soft open-files limit of a running process (after its shell raised it), or null. */
export function noFileLimitOf(pid: number, read: (path: string) => string): string | null {
  try {
    return /^Max open files\s+(\S+)/m.exec(read(`/proc/${pid}/limits`))?.[1] ?? null;
  } catch {
    return null;
  }
}
