/** Finding tools on PATH and printing command lines the way a reader can paste them into a shell. */
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

const whichCache = new Map<string, string | undefined>();
/** Finds an executable on PATH without spawning a shell; the answer is cached for the process's life. */
export function findExecutable(name: string): string | undefined {
  if (whichCache.has(name)) return whichCache.get(name);
  let found: string | undefined;
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      found = candidate;
      break;
    } catch {
      // Not in this directory.
    }
  }
  whichCache.set(name, found);
  return found;
}

function quote(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replaceAll("'", "'\\''")}'`;
}

/** Quotes a command line for display in reports. */
export function formatCommandLine(argv: readonly string[]): string {
  return argv.map(quote).join(' ');
}
