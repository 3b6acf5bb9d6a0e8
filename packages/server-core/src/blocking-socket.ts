/**
 * The worker-thread end of a relayed connection: a socket with blocking `read()` and `write()`, the way a
 * Java `InputStream`/`OutputStream` on a BIO socket behaves. A thread that calls `read()` with nothing to
 * read parks in `Atomics.wait` until the main thread bumps CTRL_WAKE_WORKER; there is no polling.
 */
import { RelayClosedError } from './errors.js';
import {
  CTRL_IN_HEAD,
  CTRL_IN_TAIL,
  CTRL_MAIN_FLAGS,
  CTRL_MAIN_PAUSED,
  CTRL_OUT_HEAD,
  CTRL_OUT_TAIL,
  CTRL_WAKE_MAIN,
  CTRL_WAKE_WORKER,
  CTRL_WORKER_CLOSED,
  FLAG_ABORT,
  FLAG_DRAIN,
  FLAG_PEER_EOF,
  type RelayViews,
  relayViews,
  ringRead,
  ringWrite,
  wake,
} from './relay-buffer.js';

/**
 * Why `read()` returned no bytes:
 * - `eof`: the peer sent FIN and every byte before it has been read;
 * - `drain`: the server is shutting down and nothing more is buffered, so stop waiting for requests;
 * - `abort`: the connection is gone (reset or forced close);
 * - `timeout`: nothing arrived within the read's deadline (Java's `SocketTimeoutException` under `SO_TIMEOUT`).
 */
export type ReadEnd = 'eof' | 'drain' | 'abort' | 'timeout';

/** The blocking I/O a handler loop needs; implemented by `BlockingSocket`, easy to fake in memory. */
export interface BlockingIo {
  /**
   * Blocks until bytes are available, the stream ended or `timeoutMs` passed (default: no deadline).
   * Never returns an empty array.
   */
  read(timeoutMs?: number): Uint8Array | ReadEnd;
  /** Blocks until every byte is in the outbound buffer; throws `RelayClosedError` if the peer is gone. */
  write(bytes: Uint8Array): void;
  /** Asks the main thread to close the connection once written bytes are flushed. Idempotent. */
  close(): void;
}

export class BlockingSocket implements BlockingIo {
  readonly #v: RelayViews;
  #closed = false;

  /** `sab` comes from `createRelayBuffer` on the main thread, passed in `workerData` or a task. */
  constructor(sab: SharedArrayBuffer) {
    this.#v = relayViews(sab);
  }

  read(timeoutMs = Number.POSITIVE_INFINITY): Uint8Array | ReadEnd {
    const { ctrl, inbound } = this.#v;
    const until = timeoutMs === Number.POSITIVE_INFINITY ? timeoutMs : performance.now() + timeoutMs;
    for (;;) {
      // Read the wake word first: any change after this load makes Atomics.wait return at once.
      const seq = Atomics.load(ctrl, CTRL_WAKE_WORKER);
      // Flags before data: the main thread stores the last bytes before it sets EOF, so if we see EOF
      // here, the head we load next includes every byte. (The other order loses bytes sent with a FIN.)
      const flags = Atomics.load(ctrl, CTRL_MAIN_FLAGS);
      const tail = ctrl[CTRL_IN_TAIL]!;
      const available = (Atomics.load(ctrl, CTRL_IN_HEAD) - tail) | 0;
      if (available > 0) {
        const bytes = new Uint8Array(available);
        ringRead(inbound, tail, bytes, available);
        Atomics.store(ctrl, CTRL_IN_TAIL, (tail + available) | 0);
        // Only a paused socket waits for space; skip the cross-thread wake otherwise.
        if (Atomics.load(ctrl, CTRL_MAIN_PAUSED) === 1) wake(ctrl, CTRL_WAKE_MAIN);
        return bytes;
      }
      if (flags & FLAG_ABORT) return 'abort';
      if (flags & FLAG_PEER_EOF) return 'eof';
      if (flags & FLAG_DRAIN) return 'drain';
      if (until === Number.POSITIVE_INFINITY) {
        Atomics.wait(ctrl, CTRL_WAKE_WORKER, seq);
        continue;
      }
      const left = until - performance.now();
      if (left <= 0) return 'timeout';
      Atomics.wait(ctrl, CTRL_WAKE_WORKER, seq, left);
    }
  }

  write(bytes: Uint8Array): void {
    const { ctrl, outbound } = this.#v;
    if (this.#closed) throw new RelayClosedError('write after close');
    let offset = 0;
    while (offset < bytes.length) {
      const seq = Atomics.load(ctrl, CTRL_WAKE_WORKER);
      if (Atomics.load(ctrl, CTRL_MAIN_FLAGS) & FLAG_ABORT) throw new RelayClosedError('connection aborted');
      const head = ctrl[CTRL_OUT_HEAD]!;
      const free = outbound.length - ((head - Atomics.load(ctrl, CTRL_OUT_TAIL)) | 0);
      if (free === 0) {
        // Outbound full: the socket is slower than we produce. Block until the main thread takes bytes.
        Atomics.wait(ctrl, CTRL_WAKE_WORKER, seq);
        continue;
      }
      const n = Math.min(free, bytes.length - offset);
      ringWrite(outbound, head, bytes.subarray(offset, offset + n));
      Atomics.store(ctrl, CTRL_OUT_HEAD, (head + n) | 0);
      offset += n;
      wake(ctrl, CTRL_WAKE_MAIN);
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    Atomics.store(this.#v.ctrl, CTRL_WORKER_CLOSED, 1);
    wake(this.#v.ctrl, CTRL_WAKE_MAIN);
  }
}
