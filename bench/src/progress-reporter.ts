/**
 * Progress on stderr: which experiment and scenario, how far, time left. On a terminal one status line is
 * rewritten in place; under turbo or CI (not a TTY) whole lines are printed, throttled so a 100-cell matrix
 * prints a readable log rather than a flood.
 */
import type { ProgressEvent } from '@iolab/harness';

/** Under a non-TTY, a new line at most this often unless the scenario changes. */
export const DEFAULT_LINE_INTERVAL_MS = 5_000;

function clock(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const m = Math.floor(s / 60);
  return m > 0 ? `${m}m${String(s % 60).padStart(2, '0')}s` : `${s}s`;
}

export interface ProgressReporterOptions {
  readonly stream?: NodeJS.WriteStream;
  readonly lineIntervalMs?: number;
  readonly now?: () => number;
}

export class ProgressReporter {
  readonly #stream: NodeJS.WriteStream;
  readonly #tty: boolean;
  readonly #lineIntervalMs: number;
  readonly #now: () => number;
  readonly #startedAt: number;
  #lastLineAt = 0;
  #lastScenario = '';
  #statusShown = false;
  #experiment = '';
  #experimentIndex = 0;
  #experimentCount = 0;

  constructor(options: ProgressReporterOptions = {}) {
    this.#stream = options.stream ?? process.stderr;
    this.#tty = this.#stream.isTTY === true;
    this.#lineIntervalMs = options.lineIntervalMs ?? DEFAULT_LINE_INTERVAL_MS;
    this.#now = options.now ?? (() => performance.now());
    this.#startedAt = this.#now();
  }

  /** A new experiment starts (index is 1-based). */
  beginExperiment(name: string, index: number, count: number): void {
    this.#experiment = name;
    this.#experimentIndex = index;
    this.#experimentCount = count;
    this.#lastScenario = '';
    this.log(`▶ [${index}/${count}] ${name}`);
  }

  /** A message that must stay in the log (start/end of an experiment, warnings). */
  log(message: string): void {
    this.#clearStatus();
    this.#stream.write(`[bench ${clock((this.#now() - this.#startedAt) / 1000)}] ${message}\n`);
  }

  /** The callback handed to experiments. */
  readonly progress = (event: ProgressEvent): void => {
    const pct = event.total > 0 ? Math.round((event.done / event.total) * 100) : 0;
    const eta = event.etaSeconds === undefined ? '' : ` · ~${clock(event.etaSeconds)} left`;
    const text =
      `[${this.#experimentIndex}/${this.#experimentCount} ${this.#experiment}] ${event.done}/${event.total} (${pct}%)` +
      `${eta} · ${event.scenario}${event.message ? ` · ${event.message}` : ''}`;
    if (this.#tty) {
      const width = this.#stream.columns ?? 120;
      this.#stream.write(`\r\x1b[2K${text.slice(0, Math.max(20, width - 1))}`);
      this.#statusShown = true;
      return;
    }
    const now = this.#now();
    if (event.scenario !== this.#lastScenario || now - this.#lastLineAt >= this.#lineIntervalMs) {
      this.#lastScenario = event.scenario;
      this.#lastLineAt = now;
      this.log(text);
    }
  };

  /** Ends the status line so following output starts on a fresh line. */
  finish(): void {
    this.#clearStatus();
  }

  #clearStatus(): void {
    if (this.#tty && this.#statusShown) {
      this.#stream.write('\r\x1b[2K');
      this.#statusShown = false;
    }
  }
}
