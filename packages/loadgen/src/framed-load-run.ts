/**
 * One framed load run: opens the connections, writes what the driver asks for, verifies and times every
 * response, and counts every way a request can fail. The driver ({@link LoadDriver}) decides only when the
 * next request goes out; the phases (connect → warm-up → measure → drain) are here, once for both loops.
 */
import { connect, type Socket } from 'node:net';
import { type LoadgenCpu, type SelfSampler, startSelfSampler } from '@iolab/harness';
import type { FramedResponseDecoder } from '@iolab/protocols';
import { build, type Histogram } from 'hdr-histogram-js';
import { encodeRequest, type FramedOp, type FramedProtocol, responseDecoder } from './framed-client-codec.js';
import type { LoadDriver } from './framed-load-drivers.js';

/** Connects in flight at once: a burst of 10,000 SYNs overflows the server's accept backlog. */
export const MAX_CONCURRENT_CONNECTS = 256;
/** Largest latency the histogram tracks, in µs (one hour); longer ones are clamped. */
const MAX_TRACKED_US = 3_600_000_000;

/** Array-backed FIFO with O(1) shift, compacted as it drains. */
export class Fifo<T> {
  #items: T[] = [];
  #head = 0;
  get length(): number {
    return this.#items.length - this.#head;
  }
  push(item: T): void {
    this.#items.push(item);
  }
  shift(): T | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const item = this.#items[this.#head++];
    if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return item;
  }
  clear(): void {
    this.#items = [];
    this.#head = 0;
  }
}

interface InFlight {
  /** Closed loop: when written; open loop: when scheduled (ms, performance.now()). */
  readonly startMs: number;
  readonly expect: Buffer | undefined;
  readonly counted: boolean;
}

/** One connection of the run. */
export interface Conn {
  readonly socket: Socket;
  readonly decoder: FramedResponseDecoder;
  readonly inflight: Fifo<InFlight>;
  /** Open loop: scheduled times waiting behind the in-flight cap. */
  readonly backlog: Fifo<number>;
  answered: number;
  /** Connected at some point (a later error is not a connect error). */
  established: boolean;
  open: boolean;
  /** Requests built this turn, written in one go. */
  out: Uint8Array[];
}

/** Everything a run counts; the result is built from these. */
export interface FramedCounts {
  sent: number;
  completed: number;
  errors: number;
  verifyFailures: number;
  connectErrors: number;
  refused: number;
  connectTimeouts: number;
  closedByPeer: number;
  closedBeforeResponse: number;
  skipped: number;
  unanswered: number;
}

export interface RunSettings {
  readonly host: string;
  readonly port: number;
  readonly protocol: FramedProtocol;
  readonly op: FramedOp;
  readonly connections: number;
  readonly warmupMs: number;
  readonly durationMs: number;
  readonly connectTimeoutMs: number;
  readonly drainTimeoutMs: number;
}

/** What a finished run hands back to `runFramedLoad`. */
export interface RunOutcome {
  readonly counts: Readonly<FramedCounts>;
  readonly connectPhaseMs: number;
  readonly latency: Histogram;
  readonly loadgenCpu: LoadgenCpu;
}

export class FramedLoadRun {
  readonly #settings: RunSettings;
  readonly #driver: LoadDriver;
  readonly #conns: Conn[] = [];
  readonly #latency: Histogram = build({ numberOfSignificantValueDigits: 3 });
  readonly #counts: FramedCounts = {
    sent: 0,
    completed: 0,
    errors: 0,
    verifyFailures: 0,
    connectErrors: 0,
    refused: 0,
    connectTimeouts: 0,
    closedByPeer: 0,
    closedBeforeResponse: 0,
    skipped: 0,
    unanswered: 0,
  };
  #seq = 0;
  /** Requests in flight over all connections, so the drain check is O(1) with 10,000 connections. */
  #totalInFlight = 0;
  #measuring = false;
  #sending = true;
  #aborted = false;
  #measureFrom = Number.POSITIVE_INFINITY;
  #measureUntil = Number.POSITIVE_INFINITY;
  #sampler: SelfSampler | undefined;
  #cpu: LoadgenCpu | undefined;
  /** Called when a connection is lost or the last in-flight request is answered (the drain waits on it). */
  #onSettled: (() => void) | undefined;
  /** Ends the send phase early (abort). */
  #endRun: (() => void) | undefined;

  constructor(settings: RunSettings, driver: LoadDriver) {
    this.#settings = settings;
    this.#driver = driver;
  }

  get connections(): readonly Conn[] {
    return this.#conns;
  }
  get measuring(): boolean {
    return this.#measuring;
  }
  get sending(): boolean {
    return this.#sending;
  }
  get measureUntil(): number {
    return this.#measureUntil;
  }
  get aborted(): boolean {
    return this.#aborted;
  }

  /** Whether a request scheduled at `atMs` falls in the measured window. */
  counts(atMs: number): boolean {
    return atMs >= this.#measureFrom && atMs < this.#measureUntil;
  }

  skip(n: number): void {
    this.#counts.skipped += n;
  }

  enqueue(conn: Conn, startMs: number, counted: boolean): void {
    const request = encodeRequest(this.#settings.protocol, this.#settings.op, this.#seq++);
    conn.out.push(request.bytes);
    conn.inflight.push({ startMs, expect: request.expect, counted });
    this.#totalInFlight++;
    if (counted) this.#counts.sent++;
  }

  flush(conn: Conn): void {
    if (conn.out.length === 0 || !conn.open) return;
    conn.socket.write(conn.out.length === 1 ? (conn.out[0] as Uint8Array) : Buffer.concat(conn.out));
    conn.out = [];
  }

  #lose(conn: Conn): void {
    if (!conn.open) return;
    conn.open = false;
    for (let item = conn.inflight.shift(); item; item = conn.inflight.shift()) {
      this.#totalInFlight--;
      if (item.counted) this.#counts.errors++;
    }
    this.#counts.skipped += conn.backlog.length;
    conn.backlog.clear();
    this.#onSettled?.();
  }

  #onData(conn: Conn, chunk: Buffer): void {
    const counts = this.#counts;
    let responses: ReturnType<FramedResponseDecoder['push']>;
    try {
      responses = conn.decoder.push(chunk);
    } catch {
      counts.verifyFailures++;
      conn.socket.destroy();
      this.#lose(conn);
      return;
    }
    const now = performance.now();
    for (const response of responses) {
      const item = conn.inflight.shift();
      conn.answered++;
      if (!item) {
        counts.verifyFailures++;
        continue;
      }
      this.#totalInFlight--;
      if (!response.ok) {
        if (item.counted) counts.errors++;
      } else if (item.expect && !item.expect.equals(response.body)) {
        if (item.counted) counts.verifyFailures++;
      } else if (item.counted) {
        counts.completed++;
        this.#latency.recordValue(
          Math.min(MAX_TRACKED_US, Math.max(1, Math.round((now - item.startMs) * 1000))),
        );
      }
      if (this.#sending) this.#driver.answered(this, conn, now);
    }
    this.flush(conn);
    if (!this.#sending && this.#totalInFlight === 0) this.#onSettled?.();
  }

  #open(): Promise<void> {
    const { host, port, protocol, op, connectTimeoutMs } = this.#settings;
    const counts = this.#counts;
    return new Promise((resolve) => {
      const socket = connect({ host, port });
      const conn: Conn = {
        socket,
        decoder: responseDecoder(protocol, op),
        inflight: new Fifo(),
        backlog: new Fifo(),
        answered: 0,
        established: false,
        open: false,
        out: [],
      };
      const timer = setTimeout(
        () => socket.destroy(Object.assign(new Error('connect timeout'), { code: 'ETIMEDOUT' })),
        connectTimeoutMs,
      );
      socket.setNoDelay(true);
      socket.once('connect', () => {
        clearTimeout(timer);
        conn.open = true;
        conn.established = true;
        this.#conns.push(conn);
        resolve();
      });
      socket.on('data', (chunk: Buffer) => this.#onData(conn, chunk));
      socket.on('error', (error: NodeJS.ErrnoException) => {
        clearTimeout(timer);
        if (!conn.established) {
          counts.connectErrors++;
          if (error.code === 'ECONNREFUSED') counts.refused++;
          else if (error.code === 'ETIMEDOUT') counts.connectTimeouts++;
          resolve();
        }
      });
      socket.on('close', () => {
        clearTimeout(timer);
        if (conn.open && !this.#aborted && this.#sending) {
          counts.closedByPeer++;
          if (conn.answered === 0) counts.closedBeforeResponse++;
        }
        this.#lose(conn);
        resolve();
      });
    });
  }

  /** Opens every connection, at most {@link MAX_CONCURRENT_CONNECTS} at a time. */
  async connectAll(): Promise<void> {
    let next = 0;
    const workers = Array.from(
      { length: Math.min(MAX_CONCURRENT_CONNECTS, this.#settings.connections) },
      async () => {
        while (next < this.#settings.connections && !this.#aborted) {
          next++;
          await this.#open();
        }
      },
    );
    await Promise.all(workers);
  }

  /** Stops sending and closes every connection; the run then returns (or rejects) as soon as it can. */
  abort(): void {
    this.#aborted = true;
    this.#sending = false;
    this.destroy();
    this.#endRun?.();
    this.#onSettled?.();
  }

  /** Warm-up, the measured window, then a bounded drain. Call after {@link connectAll}. */
  async load(): Promise<void> {
    const { warmupMs, durationMs, drainTimeoutMs } = this.#settings;
    const startMs = performance.now();
    this.#measureFrom = startMs + warmupMs;
    this.#measureUntil = this.#measureFrom + durationMs;
    this.#measuring = warmupMs === 0;
    if (this.#measuring) this.#sampler = startSelfSampler();
    const phaseTimers: NodeJS.Timeout[] = [];
    if (!this.#measuring) {
      phaseTimers.push(
        setTimeout(() => {
          this.#measuring = true;
          this.#sampler = startSelfSampler();
        }, warmupMs),
      );
    }
    const finished = new Promise<void>((resolve) => {
      this.#endRun = (): void => {
        this.#endRun = undefined;
        this.#measuring = false;
        this.#sending = false;
        this.#cpu = this.#sampler?.stop();
        this.#driver.stop();
        resolve();
      };
      phaseTimers.push(setTimeout(() => this.#endRun?.(), warmupMs + durationMs));
    });
    this.#driver.start(this, startMs);
    if (this.#aborted) this.#endRun?.();
    await finished;
    // Drain: give in-flight requests a bounded time to be answered.
    await new Promise<void>((resolve) => {
      const check = (): void => {
        if (this.#aborted || this.#totalInFlight === 0) done();
      };
      const timer = setTimeout(() => done(), drainTimeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.#onSettled = undefined;
        resolve();
      };
      this.#onSettled = check;
      check();
    });
    for (const t of phaseTimers) clearTimeout(t);
  }

  /** Counts what is still unanswered or queued, closes everything and hands back the figures. */
  finish(connectPhaseMs: number): RunOutcome {
    for (const conn of this.#conns) {
      for (let item = conn.inflight.shift(); item; item = conn.inflight.shift())
        if (item.counted) this.#counts.unanswered++;
      if (conn.open) this.#counts.skipped += conn.backlog.length;
      conn.backlog.clear();
    }
    this.destroy();
    return {
      counts: this.#counts,
      connectPhaseMs,
      latency: this.#latency,
      loadgenCpu: this.#cpu ?? startSelfSampler().stop(),
    };
  }

  destroy(): void {
    for (const conn of this.#conns) {
      conn.open = false;
      conn.socket.destroy();
    }
  }

  /** Closes everything and frees the histograms (hdr-histogram-js asks for `destroy()`). */
  release(): void {
    this.destroy();
    this.#driver.destroy();
    this.#latency.destroy();
  }
}
