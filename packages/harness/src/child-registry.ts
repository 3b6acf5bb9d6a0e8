/**
 * Module-level registry of every child process an experiment starts, so that none outlives us:
 * on 'exit' (synchronous: only kill() is possible there), SIGINT and SIGTERM every live child gets SIGKILL.
 * Children are also started under `setpriv --pdeathsig KILL` where available, which covers the case no
 * handler can: this process being SIGKILLed.
 */
import type { ChildProcess } from 'node:child_process';

const live = new Set<ChildProcess>();
let installed = false;

function killAllNow(): void {
  for (const child of live) {
    try {
      child.kill('SIGKILL');
    } catch {
      // Already gone: nothing to do.
    }
  }
  live.clear();
}

function onSignal(signal: NodeJS.Signals): void {
  killAllNow();
  // Installing a listener removes Node's default "exit on signal". When nobody else (e.g. the bench
  // orchestrator) listens, restore the default and re-raise so Ctrl-C still ends the process.
  if (process.listenerCount(signal) === 1) {
    process.removeListener(signal, onSignal);
    process.kill(process.pid, signal);
  }
}

function install(): void {
  if (installed) return;
  installed = true;
  process.on('exit', killAllNow);
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
}

/** Registers a child until it exits. */
export function trackChild(child: ChildProcess): void {
  install();
  if (child.exitCode !== null || child.signalCode !== null) return;
  live.add(child);
  child.once('exit', () => live.delete(child));
}

/** SIGKILLs every live child started through this package (for an orchestrator's own cleanup path). */
export function killAllManaged(): void {
  killAllNow();
}

/** How many children started through this package are still running. */
export function liveManagedCount(): number {
  return live.size;
}
