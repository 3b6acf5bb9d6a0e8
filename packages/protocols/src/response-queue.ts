/**
 * Responses in request order, whatever order the work finishes in (HTTP/1.1 pipelining, RFC 9112 §9.3.2;
 * the framed protocols keep the same rule).
 *
 *   slots:  [ #1 ready ][ #2 waiting ][ #3 ready ]   drain() sends #1 only; #3 waits for #2
 *
 * Its length is bounded by the session's `maxPipelineDepth` (+1 for a final error slot): the sessions stop
 * parsing when it is reached.
 */

import { UnknownWorkError } from './errors.js';

interface Slot<C> {
  readonly id: number;
  readonly context: C;
  bytes: readonly Uint8Array[] | undefined;
  /** Close the connection once this slot's bytes are out. */
  closeAfter: boolean;
}

export class ResponseQueue<C> {
  readonly #slots: Slot<C>[] = [];
  readonly #waiting = new Map<number, Slot<C>>();
  #nextId = 1;

  /** Requests received and not yet answered. */
  get length(): number {
    return this.#slots.length;
  }

  /** A slot whose bytes are known now (an error, a refusal); keeps its place in line. */
  pushReady(context: C, bytes: readonly Uint8Array[], closeAfter: boolean): void {
    this.#slots.push({ id: 0, context, bytes, closeAfter });
  }

  /** A slot waiting for `fill(id)`; returns the work id to hand to the server model. */
  pushWaiting(context: C, closeAfter: boolean): number {
    const id = this.#nextId++;
    const slot: Slot<C> = { id, context, bytes: undefined, closeAfter };
    this.#slots.push(slot);
    this.#waiting.set(id, slot);
    return id;
  }

  /** The context of a waiting slot; throws `UnknownWorkError` for an id not waiting (a model bug). */
  contextOf(id: number): C {
    const slot = this.#waiting.get(id);
    if (!slot) throw new UnknownWorkError(id);
    return slot.context;
  }

  fill(id: number, bytes: readonly Uint8Array[]): void {
    const slot = this.#waiting.get(id);
    if (!slot) throw new UnknownWorkError(id);
    this.#waiting.delete(id);
    slot.bytes = bytes;
  }

  /**
   * Alternates `drain(send)` with `refill()` (which queues more requests) until neither makes progress:
   * a slot freed by sending may let more requests in, and those may be sendable at once. Returns true
   * once a `closeAfter` slot went out.
   */
  drainAndRefill(send: Uint8Array[], refill: () => void): boolean {
    for (;;) {
      if (this.drain(send)) return true;
      const before = this.#slots.length;
      refill();
      if (this.#slots.length === before) return false;
    }
  }

  /** Moves the ready head of the line into `send`; returns true once a `closeAfter` slot went out. */
  drain(send: Uint8Array[]): boolean {
    while (this.#slots.length > 0) {
      const head = this.#slots[0]!;
      if (head.bytes === undefined) return false;
      this.#slots.shift(); // O(depth), and depth is capped small
      for (const b of head.bytes) if (b.length > 0) send.push(b);
      if (head.closeAfter) {
        // Nothing queued behind a closing response can ever be sent.
        this.#slots.length = 0;
        this.#waiting.clear();
        return true;
      }
    }
    return false;
  }
}
