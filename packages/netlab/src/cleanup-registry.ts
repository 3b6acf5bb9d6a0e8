/**
 * Undo actions for everything the lab creates (namespaces, nft tables, keepalived processes), run last-in
 * first-out on success, on failure, on SIGINT/SIGTERM and at process exit.
 *
 * Actions are synchronous because Node runs only synchronous code in an 'exit' handler; an action that
 * throws is reported and the rest still run. Each action runs at most once however many of these paths
 * reach it (a test's afterAll, then the exit hook).
 */

export interface CleanupHandle {
  /** Runs this action now (once) and forgets it. */
  run(): void;
  /** Forgets the action without running it (the resource was released another way). */
  dismiss(): void;
}

interface Entry {
  readonly label: string;
  readonly action: () => void;
  done: boolean;
}

/** Signals after which the registry cleans up; it re-raises the signal when nobody else listens for it. */
const CLEANUP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

export class CleanupRegistry {
  #entries: Entry[] = [];
  #hooked = false;
  readonly #onError: (label: string, error: unknown) => void;

  constructor(onError?: (label: string, error: unknown) => void) {
    this.#onError =
      onError ??
      ((label, error) => process.stderr.write(`iolab lab: cleanup "${label}" failed: ${String(error)}\n`));
  }

  /** Registers an undo action; installs the exit and signal hooks on first use. */
  add(label: string, action: () => void): CleanupHandle {
    const entry: Entry = { label, action, done: false };
    this.#entries.push(entry);
    this.#hook();
    return {
      run: () => this.#runEntry(entry),
      dismiss: () => {
        entry.done = true;
        this.#entries = this.#entries.filter((e) => e !== entry);
      },
    };
  }

  /** Labels of the actions not run yet, oldest first. */
  pending(): string[] {
    return this.#entries.filter((e) => !e.done).map((e) => e.label);
  }

  /** Runs every pending action, newest first. */
  runAll(): void {
    for (const entry of [...this.#entries].reverse()) this.#runEntry(entry);
    this.#entries = [];
  }

  #runEntry(entry: Entry): void {
    if (entry.done) return;
    entry.done = true;
    try {
      entry.action();
    } catch (error) {
      this.#onError(entry.label, error);
    }
    this.#entries = this.#entries.filter((e) => e !== entry);
  }

  #hook(): void {
    if (this.#hooked) return;
    this.#hooked = true;
    process.on('exit', () => this.runAll());
    for (const signal of CLEANUP_SIGNALS) {
      const onSignal = (): void => {
        this.runAll();
        // Ours was the only listener: behave as if there had been none (die of the signal).
        if (process.listenerCount(signal) === 1) {
          process.removeListener(signal, onSignal);
          process.kill(process.pid, signal);
        }
      };
      process.on(signal, onSignal);
    }
  }
}

/** The registry the lab uses unless given another: one per process, so the exit hook is installed once. */
export const labCleanup = new CleanupRegistry();
