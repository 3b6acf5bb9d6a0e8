/**
 * The server side of a framed request/response connection (echo-lp, echo-line), sans-I/O.
 *
 *   receive(bytes) ─► FrameDecoder (@iolab/framing) ─► codec.parse(frame) ─┬─► Work {id, op}
 *                                                                         └─► error reply now
 *   complete(id) ─► codec.encodeResult ─► ResponseQueue (request order) ─► { send, close }
 *
 * The two protocols differ only in their `FramedServerCodec` (one file each); ordering, pausing at
 * `maxPipelineDepth`, and close rules live here once. A frame the decoder rejects (over the cap) gets an
 * error reply after the replies to the frames before it, then close; a well-framed but bad request gets
 * an error reply and the connection stays open.
 */

import { type FrameDecoder, FramingError } from '@iolab/framing';
import { type ResolvedLimits, resolveLimits, type SessionLimits } from './limits.js';
import { ResponseQueue } from './response-queue.js';
import {
  CLOSED_OUTPUT,
  type Operation,
  type OperationResult,
  type Receiving,
  type ServerSession,
  type SessionOutput,
  type SessionRejection,
  type Work,
} from './session.js';

export type FramedRequest =
  | { readonly kind: 'operation'; readonly op: Operation }
  | {
      readonly kind: 'error';
      readonly code: 'IOLAB_FRAMED_BAD_REQUEST' | 'IOLAB_OPERATION_OUT_OF_RANGE';
      readonly message: string;
    };

/** What a framed protocol supplies; everything else is shared. */
export interface FramedServerCodec {
  readonly decoder: FrameDecoder;
  /** Bytes the frame took on the wire (header/delimiter included): locates a decoder error among frames. */
  wireLength(frame: Uint8Array): number;
  /** Must not keep `frame`: it may alias the caller's chunk. */
  parse(frame: Uint8Array, limits: ResolvedLimits): FramedRequest;
  encodeResult(kind: Operation['kind'], result: OperationResult): Uint8Array[];
  encodeError(message: string): Uint8Array[];
}

export class FramedServerSession implements ServerSession {
  readonly #codec: FramedServerCodec;
  readonly #limits: ResolvedLimits;
  readonly #queue = new ResponseQueue<Operation['kind'] | 'fixed'>();
  /** Frames decoded while paused at the pipeline cap (views of our private chunk copies). */
  #backlog: Uint8Array[] = [];
  /** Index of the next backlog frame (a head index, not shift(): the backlog can hold thousands). */
  #backlogHead = 0;
  #backlogBytes = 0;
  /** Stream offset where the next decoded frame starts. */
  #frameOffset = 0;
  /** Bytes pushed into the decoder; beyond `#frameOffset` they are a partial frame it holds. */
  #bytesIn = 0;
  #readingDone = false;
  /** The decoder failed: this error reply goes out after the backlog's replies, then close. */
  #finalError: Uint8Array[] | undefined;
  #closeWhenDrained = false;
  #closed = false;
  #rejected: SessionRejection | undefined;

  constructor(codec: FramedServerCodec, limits?: SessionLimits) {
    this.#codec = codec;
    this.#limits = resolveLimits(limits);
  }

  get pending(): number {
    return this.#queue.length;
  }

  /** True while requests wait at `maxPipelineDepth`: a model that can stop reading should. */
  get inputPaused(): boolean {
    return !this.#readingDone && this.#queue.length >= this.#limits.maxPipelineDepth;
  }

  /** Decoded frames waiting while paused (the decoder's own partial frame is bounded by its cap). */
  get bufferedBytes(): number {
    return this.#backlogBytes;
  }

  get rejected(): SessionRejection | undefined {
    return this.#rejected;
  }

  get receiving(): Receiving {
    if (this.#readingDone || this.#closed || this.inputPaused) return 'none';
    return this.#bytesIn > this.#frameOffset ? 'head' : 'none';
  }

  timedOut(): SessionOutput {
    if (this.#closed) return CLOSED_OUTPUT;
    this.#stopReading();
    this.#queue.pushReady(
      'fixed',
      this.#codec.encodeError('IOLAB_FRAME_TIMEOUT: frame not received in time'),
      true,
    );
    return this.#flush();
  }

  receive(chunk: Uint8Array): SessionOutput {
    if (this.#closed) return CLOSED_OUTPUT;
    const work: Work[] = [];
    const send: Uint8Array[] = [];
    if (!this.#readingDone) {
      let frames: Uint8Array[];
      let failure: FramingError | undefined;
      try {
        // The decoders keep references to pushed chunks until their frame completes; the caller may reuse
        // its read buffer the moment we return, so they get a private copy (one memcpy per read).
        this.#bytesIn += chunk.length;
        frames = this.#codec.decoder.push(chunk.slice());
      } catch (error) {
        if (!(error instanceof FramingError)) throw error;
        failure = error;
        // Only the frames that started before the bad one are requests we owe a reply.
        frames = [];
        let at = this.#frameOffset;
        for (const f of error.frames) {
          if (at >= error.offset) break;
          frames.push(f);
          at += this.#codec.wireLength(f);
        }
      }
      for (const f of frames) {
        this.#frameOffset += this.#codec.wireLength(f);
        if (
          this.#backlogHead === this.#backlog.length &&
          this.#queue.length < this.#limits.maxPipelineDepth
        ) {
          this.#handle(f, work);
        } else {
          this.#backlog.push(f); // a view of our private copy of the chunk: safe to keep
          this.#backlogBytes += f.length;
        }
      }
      if (failure) {
        this.#readingDone = true;
        this.#rejected ??= { code: failure.code, message: failure.message };
        this.#finalError = this.#codec.encodeError(`${failure.code}: ${failure.message}`);
      }
      this.#advance(work, send);
      if (!this.#closed && !failure && this.#backlogBytes > this.#limits.maxPausedInputBytes) {
        // The model kept reading past our pause: drop the backlog, answer what is in flight, then close.
        this.#stopReading();
        this.#rejected ??= {
          code: 'IOLAB_PIPELINE_TOO_DEEP',
          message: `input over maxPausedInputBytes (${this.#limits.maxPausedInputBytes})`,
        };
        this.#queue.pushReady(
          'fixed',
          this.#codec.encodeError('IOLAB_PIPELINE_TOO_DEEP: input over maxPausedInputBytes'),
          true,
        );
        this.#advance(work, send);
      }
    }
    return { work, send, close: this.#closed };
  }

  complete(id: number, result: OperationResult): SessionOutput {
    const kind = this.#queue.contextOf(id);
    this.#queue.fill(id, this.#codec.encodeResult(kind === 'fixed' ? 'echo' : kind, result));
    return this.#flush();
  }

  peerEnded(): SessionOutput {
    if (this.#closed) return CLOSED_OUTPUT;
    // Requests already decoded are still answered; a partial frame can no longer complete.
    this.#closeWhenDrained = true;
    this.#readingDone = true;
    return this.#flush();
  }

  /** The output of a call that adds no input: what became sendable, and the work that freed slots let in. */
  #flush(): SessionOutput {
    const work: Work[] = [];
    const send: Uint8Array[] = [];
    this.#advance(work, send);
    return { work, send, close: this.#closed };
  }

  #handle(frame: Uint8Array, work: Work[]): void {
    const request = this.#codec.parse(frame, this.#limits);
    if (request.kind === 'error') {
      this.#queue.pushReady('fixed', this.#codec.encodeError(`${request.code}: ${request.message}`), false);
    } else {
      work.push({ id: this.#queue.pushWaiting(request.op.kind, false), op: request.op });
    }
  }

  /** Moves backlog frames into the queue while under the pipeline cap; then the final error, if any. */
  #pump(work: Work[]): void {
    while (this.#backlogHead < this.#backlog.length && this.#queue.length < this.#limits.maxPipelineDepth) {
      const frame = this.#backlog[this.#backlogHead++]!;
      this.#backlogBytes -= frame.length;
      this.#handle(frame, work);
    }
    if (this.#backlogHead === this.#backlog.length) {
      this.#backlog = [];
      this.#backlogHead = 0;
      if (this.#finalError) {
        this.#queue.pushReady('fixed', this.#finalError, true);
        this.#finalError = undefined;
      }
    }
  }

  #stopReading(): void {
    this.#readingDone = true;
    this.#finalError = undefined;
    this.#backlog = [];
    this.#backlogHead = 0;
    this.#backlogBytes = 0;
  }

  /** Alternates sending the ready head of the line and queueing backlog frames until neither progresses. */
  #advance(work: Work[], send: Uint8Array[]): void {
    if (this.#queue.drainAndRefill(send, () => this.#pump(work))) {
      this.#closed = true;
      return;
    }
    const backlogEmpty = this.#backlogHead === this.#backlog.length;
    if (this.#closeWhenDrained && this.#queue.length === 0 && backlogEmpty && !this.#finalError) {
      this.#closed = true;
    }
  }
}
