/**
 * Runs `ip`, `nft`, `sysctl` synchronously. Synchronous on purpose: the cleanup registry must also work
 * inside a process 'exit' handler, where nothing asynchronous runs.
 */
import { execFileSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { LabCommandError, LabMissingToolError } from './errors.js';

/** One `ip`/`nft` call finishes within this; a hung call (a kernel lock, a stuck daemon) fails the step. */
export const DEFAULT_COMMAND_TIMEOUT_MS = 15_000;

const SEARCH_DIRS = ['/usr/sbin', '/sbin', '/usr/bin', '/bin', '/usr/local/sbin', '/usr/local/bin'];

/** Absolute path of a system tool, or undefined. */
export function findTool(name: string): string | undefined {
  for (const dir of SEARCH_DIRS) {
    try {
      accessSync(`${dir}/${name}`, constants.X_OK);
      return `${dir}/${name}`;
    } catch {
      // Not in this directory.
    }
  }
  return undefined;
}

export function requireTool(name: string): string {
  const path = findTool(name);
  if (!path) throw new LabMissingToolError(name);
  return path;
}

/** Runs a tool, returns stdout; throws LabCommandError with stderr on a non-zero exit. */
export function run(tool: string, args: readonly string[], input?: string): string {
  const file = requireTool(tool);
  try {
    return execFileSync(file, args, {
      encoding: 'utf8',
      stdio: ['pipe', 'pipe', 'pipe'],
      timeout: DEFAULT_COMMAND_TIMEOUT_MS,
      input,
    });
  } catch (error) {
    const stderr = String((error as { stderr?: unknown }).stderr ?? (error as Error).message);
    throw new LabCommandError([tool, ...args].join(' '), stderr);
  }
}

/** Like run(), but a failure is returned instead of thrown (cleanup keeps going past one failed step). */
export function tryRun(tool: string, args: readonly string[]): string | undefined {
  try {
    return run(tool, args);
  } catch {
    return undefined;
  }
}
