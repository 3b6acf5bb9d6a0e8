/**
 * The main-thread end of a relayed connection. In Node ≤ 24 a worker thread cannot own a socket, so for
 * the thread models the main thread moves bytes between the socket and the worker's rings:
 *
 * ```
 *   socket ──'data'──► inbound ring ──► worker read()      (ring full → socket.pause(): backpressure)
 *   socket ◄─write()── outbound ring ◄── worker write()    (socket not drained → ring fills → write() blocks)
 * ```
 *
 * The main thread learns about outbound bytes with `Atomics.waitAsync` on CTRL_WAKE_MAIN rather than a
 * MessagePort ping: the worker's side is then one `Atomics.notify` (no structured clone, no port queue),
 * wake-ups coalesce (one resolution drains every response written since), and the same word carries
 * "space freed" and "worker closed", so there is one wake path to reason about.
 */
import type { Socket } from 'node:net';
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
  createRelayBuffer,
  FLAG_ABORT,
  FLAG_DRAIN,
  FLAG_PEER_EOF,
  type RelayCapacities,
  relayViews,
  ringRead,
  ringWrite,
  wake,
} from './relay-buffer.js';
import { closeAfterFlush } from './socket-close.js';

/** `Atomics.waitAsync` is in V8 since Node 16 but not in the ES2022 lib typings this repo compiles with. */
type WaitAsync = (
  array: Int32Array,
  index: number,
  value: number,
) => { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

export interface SocketRelay {
  /** Hand this to the worker thread; it wraps it in a `BlockingSocket`. */
  readonly buffer: SharedArrayBuffer;
  /** Ask the worker to stop at the next request boundary (graceful shutdown). */
  drain(): void;
  /** The worker ended (returned, crashed or was terminated): flush what it wrote, then close. */
  workerEnded(): void;
  /** Resolves when the socket has closed, whatever the reason. */
  readonly closed: Promise<void>;
}

export function relaySocket(socket: Socket, capacities?: RelayCapacities): SocketRelay {
  const buffer = createRelayBuffer(capacities);
  const { ctrl, inbound, outbound } = relayViews(buffer);
  let backlog: Uint8Array | null = null; // the part of one 'data' chunk that did not fit; the socket is paused
  let closing = false;
  let finished = false;
  let awaitingDrain = false;
  let peerEnded = false; // FIN seen; signalled to the worker only once the backlog is in the ring
  let resolveClosed!: () => void;
  const closed = new Promise<void>((resolve) => {
    resolveClosed = resolve;
  });

  const setFlag = (flag: number): void => {
    Atomics.or(ctrl, CTRL_MAIN_FLAGS, flag);
    wake(ctrl, CTRL_WAKE_WORKER);
  };

  /** Copies as much of `chunk` as fits; returns what did not fit. */
  const pushInbound = (chunk: Uint8Array): Uint8Array | null => {
    const head = ctrl[CTRL_IN_HEAD]!;
    const free = inbound.length - ((head - Atomics.load(ctrl, CTRL_IN_TAIL)) | 0);
    const n = Math.min(free, chunk.length);
    if (n > 0) {
      ringWrite(inbound, head, chunk.subarray(0, n));
      Atomics.store(ctrl, CTRL_IN_HEAD, (head + n) | 0);
      wake(ctrl, CTRL_WAKE_WORKER);
    }
    return n === chunk.length ? null : chunk.subarray(n);
  };

  const pump = (): void => {
    if (finished) return;
    // Closed flag before ring positions: the worker stores its last bytes before it sets the flag, so
    // seeing the flag here means the head loaded below includes them (the other order drops a last reply).
    const workerClosed = Atomics.load(ctrl, CTRL_WORKER_CLOSED) === 1;
    if (backlog !== null) {
      backlog = pushInbound(backlog);
      if (backlog === null) {
        Atomics.store(ctrl, CTRL_MAIN_PAUSED, 0);
        if (peerEnded) setFlag(FLAG_PEER_EOF);
        else if (!closing) socket.resume();
      }
    }
    while (!awaitingDrain && !socket.destroyed) {
      const tail = ctrl[CTRL_OUT_TAIL]!;
      const available = (Atomics.load(ctrl, CTRL_OUT_HEAD) - tail) | 0;
      if (available <= 0) break;
      const bytes = Buffer.allocUnsafe(available);
      ringRead(outbound, tail, bytes, available);
      Atomics.store(ctrl, CTRL_OUT_TAIL, (tail + available) | 0);
      wake(ctrl, CTRL_WAKE_WORKER); // a write() blocked on a full ring can continue
      if (!socket.write(bytes)) {
        // The kernel buffer is full: leave the rest in the ring so the worker's write() blocks.
        awaitingDrain = true;
        socket.once('drain', () => {
          awaitingDrain = false;
          pump();
        });
      }
    }
    const outboundEmpty = Atomics.load(ctrl, CTRL_OUT_HEAD) === ctrl[CTRL_OUT_TAIL];
    if (!closing && outboundEmpty && workerClosed) {
      closing = true;
      closeAfterFlush(socket);
    }
  };

  // Event-count loop: load the wake word *before* pumping, so a bump during pump() fails the wait at once.
  const arm = (): void => {
    if (finished) return;
    const seq = Atomics.load(ctrl, CTRL_WAKE_MAIN);
    pump();
    if (finished) return;
    const result = waitAsync(ctrl, CTRL_WAKE_MAIN, seq);
    if (result.async) result.value.then(arm, arm);
    else setImmediate(arm); // changed while pumping; yield to I/O before looking again
  };

  socket.on('data', (chunk: Buffer) => {
    if (closing || finished) return; // lingering after our FIN: drop
    if (backlog !== null) {
      // 'data' already queued before pause() took effect; keep it behind the backlog, bounded by one read.
      backlog = Buffer.concat([backlog, chunk]);
      return;
    }
    backlog = pushInbound(chunk);
    if (backlog !== null) {
      socket.pause();
      Atomics.store(ctrl, CTRL_MAIN_PAUSED, 1);
      pump(); // the worker may have made room before it could see the paused flag
    }
  });
  socket.on('end', () => {
    peerEnded = true;
    if (backlog === null) setFlag(FLAG_PEER_EOF);
  });
  socket.once('close', () => {
    finished = true;
    setFlag(FLAG_ABORT);
    wake(ctrl, CTRL_WAKE_MAIN); // release our own pending waitAsync
    resolveClosed();
  });

  arm();

  return {
    buffer,
    closed,
    drain: () => setFlag(FLAG_DRAIN),
    workerEnded: () => {
      Atomics.store(ctrl, CTRL_WORKER_CLOSED, 1);
      pump();
    },
  };
}
