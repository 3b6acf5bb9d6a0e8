/**
 * Cleanup tracking: a test registers what it opened as it opens it, and `afterEach(cleanup.run)` closes it
 * all — last opened first, every closer run even when one throws — so a failing test leaks nothing into the
 * next one.
 */

export type Closer = () => void | Promise<void>;

export class Cleanup {
  #closers: Closer[] = [];

  /** Registers `closer`; returns `value` so `const s = cleanup.add(server, () => server.close())` reads well. */
  add<T>(value: T, closer: Closer): T {
    this.#closers.push(closer);
    return value;
  }

  /** Registers a closer with no value attached. */
  defer(closer: Closer): void {
    this.#closers.push(closer);
  }

  /** How many closers are waiting. */
  get size(): number {
    return this.#closers.length;
  }

  /** Runs every closer, newest first; rethrows the first error after all have run. */
  readonly run = async (): Promise<void> => {
    const closers = this.#closers.splice(0).reverse();
    let first: unknown;
    for (const closer of closers) {
      try {
        await closer();
      } catch (error) {
        first ??= error;
      }
    }
    if (first !== undefined) throw first;
  };
}
