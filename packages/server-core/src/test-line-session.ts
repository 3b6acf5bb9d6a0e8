/**
 * A tiny line protocol for server-core's own tests, so the lifecycle and the blocking loop are tested
 * without the real protocols: each `\n`-terminated line is one request — `sleep MS` sleeps, `close`
 * answers and closes, anything else is echoed — answered in request order.
 */
import type { Operation, OperationResult, Receiving, ServerSession, SessionOutput } from '@iolab/protocols';

const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class LineSession implements ServerSession {
  #buffer = '';
  #nextId = 1;
  #order: number[] = [];
  #done = new Map<number, string>();
  #closeAfter: number | undefined;
  #ended = false;
  /** The line protocol refuses nothing. */
  readonly rejected = undefined;

  receive(chunk: Uint8Array): SessionOutput {
    this.#buffer += decoder.decode(chunk);
    const work: { id: number; op: Operation }[] = [];
    for (let nl = this.#buffer.indexOf('\n'); nl !== -1; nl = this.#buffer.indexOf('\n')) {
      const line = this.#buffer.slice(0, nl);
      this.#buffer = this.#buffer.slice(nl + 1);
      const id = this.#nextId++;
      this.#order.push(id);
      if (line === 'close') this.#closeAfter = id;
      const sleep = /^sleep (\d+)$/.exec(line);
      work.push({
        id,
        op: sleep ? { kind: 'sleep', ms: Number(sleep[1]) } : { kind: 'echo', body: encoder.encode(line) },
      });
    }
    return { work, send: [], close: false };
  }

  complete(id: number, result: OperationResult): SessionOutput {
    this.#done.set(id, result.ok ? decoder.decode(result.body) : `error ${result.status}`);
    const send: Uint8Array[] = [];
    let close = false;
    while (this.#order.length > 0 && this.#done.has(this.#order[0]!)) {
      const head = this.#order.shift()!;
      send.push(encoder.encode(`${this.#done.get(head)}\n`));
      this.#done.delete(head);
      if (head === this.#closeAfter) close = true;
    }
    return { work: [], send, close: close || (this.#ended && this.#order.length === 0) };
  }

  peerEnded(): SessionOutput {
    this.#ended = true;
    return { work: [], send: [], close: this.#order.length === 0 };
  }

  get pending(): number {
    return this.#order.length;
  }

  get inputPaused(): boolean {
    return false;
  }

  get bufferedBytes(): number {
    return this.#buffer.length;
  }

  get receiving(): Receiving {
    return this.#buffer.length > 0 && !this.#ended ? 'head' : 'none';
  }

  timedOut(): SessionOutput {
    this.#ended = true;
    this.#buffer = '';
    return { work: [], send: [encoder.encode('timeout\n')], close: true };
  }
}

/** The operations the line protocol uses, run the event-loop way. */
export async function runLineOp(op: Operation): Promise<OperationResult> {
  if (op.kind === 'sleep') await new Promise((resolve) => setTimeout(resolve, op.ms));
  const body = op.kind === 'echo' ? op.body : encoder.encode(op.kind);
  return { ok: true, body, contentType: 'text/plain' };
}
