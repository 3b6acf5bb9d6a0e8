/**
 * The server side of one HTTP/1.1 connection, sans-I/O: no socket, timer or thread (h11's `Connection`).
 *
 *   receive(bytes) ─► HttpRequestParser ─► route() ─┬─► Work {id, op} ──► model runs it ─► complete(id)
 *                                                   └─► 400/404/405 now          │
 *                         ResponseQueue (request order) ◄────────────────────────┘
 *                                   │
 *                                   └─► { send: bytes, close }
 *
 * Every routed request, even `/plaintext`, becomes `Work`, so each model decides where handlers run
 * (inline, in a pool thread): a pool in per-request mode really runs `/plaintext` in the pool. A model
 * that runs handlers on its own thread says so with `runInline(runNow)`: then each operation runs as soon
 * as its request is parsed and is answered in the same call, and only what `runNow` declines (the loop's
 * `sleep` and `cpu`: answers of one call are sent together, so slow work stays outside) becomes `Work`.
 * That path is general — any route, any method, pipelined or not — and it is where the event loop spends
 * its time, so a request costs no `Work`, no id, no queue slot (unless an earlier request is still
 * waiting), a shared parsed-request object, the last route decision again when the request repeats it,
 * and the finished bytes of fixed responses (below); a call that answers one request with a fixed
 * response and stays open returns an output made once for it and allocates nothing, any other call
 * allocates its output and, if it answers, a `send` array sized to its answers.
 *
 * Close rules: a request with `Connection: close` (or HTTP/1.0 without keep-alive) is the last one read;
 * a protocol error queues its 4xx behind the in-flight responses and is the last one sent; `peerEnded()`
 * answers what is in flight, then closes. Whatever arrives after the last request is discarded unread.
 */

import type { HttpProtocolError } from '../errors.js';
import { InputBuffer } from '../input-buffer.js';
import { type ResolvedLimits, resolveLimits, type SessionLimits } from '../limits.js';
import { cpuDigestHex, JSON_BYTES, PLAINTEXT_BYTES } from '../operations.js';
import { ResponseQueue } from '../response-queue.js';
import {
  CLOSED_OUTPUT,
  NO_SEND,
  NO_WORK,
  type Operation,
  type OperationResult,
  type Receiving,
  type RunNow,
  type ServerSession,
  type SessionOutput,
  type SessionRejection,
  type Work,
} from '../session.js';
import { HttpRequestParser } from './request-parser.js';
import {
  CONTINUE_RESPONSE,
  type ConnectionHeader,
  writeResponse,
  writeTextResponse,
} from './response-writer.js';
import { type RouteDecision, route } from './routes.js';

interface SlotContext {
  readonly kind: Operation['kind'] | 'fixed';
  readonly connection: ConnectionHeader;
  readonly head: boolean;
}

const FIXED: SlotContext = { kind: 'fixed', connection: undefined, head: false };

/**
 * Finished bytes of the two TechEmpower responses, per (route, Connection header, HEAD): they are most
 * of a benchmark, so they are written once. Indexed by `staticSlot`.
 */
const staticResponses: (Uint8Array[] | undefined)[] = new Array(12);

/** The cache slot for a standard plaintext/json result, or -1 for anything else. */
function staticSlot(
  kind: SlotContext['kind'],
  connection: ConnectionHeader,
  head: boolean,
  result: OperationResult,
): number {
  if (!result.ok) return -1;
  let route: number;
  if (
    kind === 'plaintext' &&
    result.contentType === 'text/plain' &&
    sameBytes(result.body, PLAINTEXT_BYTES)
  ) {
    route = 0;
  } else if (
    kind === 'json' &&
    result.contentType === 'application/json' &&
    sameBytes(result.body, JSON_BYTES)
  ) {
    route = 1;
  } else {
    return -1;
  }
  const c = connection === undefined ? 0 : connection === 'close' ? 1 : 2;
  return route * 6 + c * 2 + (head ? 1 : 0);
}

/** Identity first (same thread), then content (a result cloned back from a pool thread). */
function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** What a model's header deadline sends (nginx and node:http answer 408 the same way). */
const REQUEST_TIMEOUT = writeTextResponse(408, 'request head not received in time', 'close');

/** A 503 with `Connection: close`: what a server at capacity writes before closing (see `refusalBytes`). */
export function httpRefusal(): Uint8Array {
  return writeTextResponse(503, 'server at capacity', 'close')[0]!;
}

/** A 500 with `Connection: close`: what a model writes when the session or a handler threw (`failureBytes`). */
export function httpFailure(): Uint8Array {
  return writeTextResponse(500, 'internal server error', 'close')[0]!;
}

/**
 * For each slot of `staticResponses` on a keep-alive connection: the whole output of a call whose one
 * answer it is (a keep-alive client's every read), made once, so such a call allocates nothing.
 */
const staticOutputs: (SessionOutput | undefined)[] = new Array(12);

/** The ready-made output of a call that sends only the static response in `slot` and stays open. */
function staticOutput(
  slot: number,
  kind: SlotContext['kind'],
  connection: ConnectionHeader,
  head: boolean,
  result: OperationResult,
): SessionOutput {
  let output = staticOutputs[slot];
  if (output === undefined) {
    const send = slotBytes(slot, kind, connection, head, result).filter((b) => b.length > 0);
    // `send` is not frozen: a frozen array has elements of its own kind, and a model's `send[0]` on the
    // hot path then went through a generic keyed load (~70 instructions a call) instead of an inline one.
    output = Object.freeze({ work: NO_WORK, send, close: false });
    staticOutputs[slot] = output;
  }
  return output;
}

/** The bytes answering `result` for a request of this kind, Connection header and method. */
function responseBytes(
  kind: SlotContext['kind'],
  connection: ConnectionHeader,
  head: boolean,
  result: OperationResult,
): readonly Uint8Array[] {
  return slotBytes(staticSlot(kind, connection, head, result), kind, connection, head, result);
}

/** `responseBytes` for a slot already looked up (-1: none). */
function slotBytes(
  slot: number,
  kind: SlotContext['kind'],
  connection: ConnectionHeader,
  head: boolean,
  result: OperationResult,
): readonly Uint8Array[] {
  const cached = slot === -1 ? undefined : staticResponses[slot];
  if (cached) return cached;
  let bytes: Uint8Array[];
  if (result.ok) {
    const body = kind === 'cpu' ? cpuDigestHex(result.body) : result.body;
    const contentType = kind === 'cpu' ? 'text/plain' : result.contentType;
    bytes = writeResponse({ status: 200, contentType, body, connection, omitBody: head });
  } else {
    bytes = writeTextResponse(result.status, result.message, connection, { omitBody: head });
  }
  if (slot !== -1) staticResponses[slot] = bytes;
  return bytes;
}

export class HttpServerSession implements ServerSession {
  // Fields a keep-alive request reads or writes come first, in one run: V8 lays fields out in declaration
  // order, and with many connections taking turns each cache line this object spans is a miss per request.
  #closed = false;
  /** No more requests will be read (close requested, protocol error, peer ended). */
  #readingDone = false;
  /** The peer sent FIN: close once the complete requests still buffered are answered. */
  #peerEnded = false;
  /** A response after which the connection closes went straight into `send` (the inline path). */
  #lastSent = false;
  /** The last parse attempt stopped for want of bytes (not for the pipeline cap). */
  #needMore = false;
  readonly #input = new InputBuffer();
  readonly #parser: HttpRequestParser;
  /**
   * Responses waiting for earlier ones or for their work, in request order; made by the first request
   * that needs a place in line. A connection whose every request is answered while it is parsed (the
   * loop's) never makes one, and so never touches one.
   */
  #queue: ResponseQueue<SlotContext> | undefined = undefined;
  /** `limits.maxPipelineDepth`, read on every request: here rather than one object further away. */
  readonly #maxPipelineDepth: number;
  /** Set by `runInline`: operations it answers never become `Work`. */
  #runNow: RunNow | undefined = undefined;
  /** The work of the call in progress; allocated by the first request that needs it (most calls have none). */
  #work: Work[] | undefined = undefined;
  /**
   * The bytes the call in progress sends; made by the first answer, with it as its one element (a
   * keep-alive read answers one request: no growing array per call).
   */
  #send: Uint8Array[] | undefined = undefined;
  /**
   * Set instead of `#send` when the call's one answer so far is a static response on a connection that
   * stays open (`staticOutput`): the call returns it as it is, unless more is sent or run.
   */
  #ready: SessionOutput | undefined = undefined;
  /** The last routing decision and the method and target it was made for (`#route`). */
  #routed: RouteDecision | undefined = undefined;
  #routedMethod = '';
  #routedTarget = '';
  // Read only off the common path.
  readonly #limits: ResolvedLimits;
  #rejected: SessionRejection | undefined = undefined;

  constructor(limits?: SessionLimits) {
    this.#limits = resolveLimits(limits);
    this.#maxPipelineDepth = this.#limits.maxPipelineDepth;
    this.#parser = new HttpRequestParser(this.#limits);
  }

  get pending(): number {
    return this.#queued();
  }

  /** Input bytes held unparsed (a partial line, or input waiting while paused): for a model's stats. */
  get bufferedBytes(): number {
    return this.#input.length;
  }

  /** True while parsing is paused at `maxPipelineDepth`: a model that can stop reading should. */
  get inputPaused(): boolean {
    return !this.#readingDone && this.#queued() >= this.#maxPipelineDepth;
  }

  /** Requests parsed and not yet answered (`pending`). */
  #queued(): number {
    const queue = this.#queue;
    return queue === undefined ? 0 : queue.length;
  }

  /** The response queue, made when first needed. */
  #line(): ResponseQueue<SlotContext> {
    return (this.#queue ??= new ResponseQueue<SlotContext>());
  }

  get rejected(): SessionRejection | undefined {
    return this.#rejected;
  }

  get receiving(): Receiving {
    if (this.#readingDone || this.#closed || this.inputPaused) return 'none';
    if (this.#parser.betweenRequests) return this.#input.length > 0 ? 'head' : 'none';
    return this.#parser.inHead ? 'head' : 'body';
  }

  runInline(runNow: RunNow): void {
    this.#runNow = runNow;
  }

  timedOut(): SessionOutput {
    if (this.#closed) return CLOSED_OUTPUT;
    this.#stopReading();
    this.#line().pushReady(FIXED, REQUEST_TIMEOUT, true);
    return this.#flush();
  }

  receive(chunk: Uint8Array): SessionOutput {
    if (this.#closed) return CLOSED_OUTPUT;
    this.#beginOutput();
    if (!this.#readingDone && !this.#peerEnded) {
      this.#input.append(chunk);
      this.#advance();
      if (!this.#closed && this.inputPaused && this.#input.length > this.#limits.maxPausedInputBytes) {
        // The model kept reading past our pause: answer what we have, then refuse and close.
        this.#stopReading();
        this.#rejected ??= {
          code: 'IOLAB_PIPELINE_TOO_DEEP',
          status: 503,
          message: `input over maxPausedInputBytes (${this.#limits.maxPausedInputBytes})`,
        };
        this.#line().pushReady(
          FIXED,
          writeTextResponse(503, 'IOLAB_PIPELINE_TOO_DEEP: input over maxPausedInputBytes', 'close'),
          true,
        );
        this.#advance();
      }
      // Never hold on to the caller's chunk past this call.
      this.#input.release();
    }
    return this.#endOutput();
  }

  complete(id: number, result: OperationResult): SessionOutput {
    const line = this.#line();
    const ctx = line.contextOf(id);
    line.fill(id, responseBytes(ctx.kind, ctx.connection, ctx.head, result));
    return this.#flush();
  }

  peerEnded(): SessionOutput {
    if (this.#closed) return CLOSED_OUTPUT;
    // Complete requests still buffered (paused at the pipeline cap) are answered; a half-received one is
    // dropped, as the peer can no longer finish it.
    this.#peerEnded = true;
    return this.#flush();
  }

  /** The output of a call that adds no input: what became sendable, and the work that freed slots let in. */
  #flush(): SessionOutput {
    this.#beginOutput();
    this.#advance();
    return this.#endOutput();
  }

  #beginOutput(): void {
    this.#work = undefined;
    this.#send = undefined;
    this.#ready = undefined;
  }

  #endOutput(): SessionOutput {
    const ready = this.#ready;
    if (ready !== undefined) {
      if (this.#work === undefined && !this.#closed) {
        this.#ready = undefined;
        return ready;
      }
      this.#sendList();
    }
    const output = { work: this.#work ?? NO_WORK, send: this.#send ?? NO_SEND, close: this.#closed };
    this.#work = undefined;
    this.#send = undefined;
    return output;
  }

  /** The call's `send` list, to add to: a ready-made output's bytes become the start of a list of its own. */
  #sendList(): Uint8Array[] {
    const ready = this.#ready;
    if (ready !== undefined) {
      this.#ready = undefined;
      this.#send = ready.send.slice();
    }
    return (this.#send ??= []);
  }

  #push(bytes: Uint8Array): void {
    if (this.#send === undefined && this.#ready === undefined) this.#send = [bytes];
    else this.#sendList().push(bytes);
  }

  #pump(): void {
    while (!this.#readingDone && this.#queued() < this.#maxPipelineDepth) {
      const step = this.#parser.next(this.#input);
      this.#needMore = step.kind === 'need-more';
      if (step.kind === 'need-more') return;
      if (step.kind === 'continue') {
        // Only when nothing is queued ahead (an interim reply must not jump the line) and the body has not
        // started arriving anyway; otherwise the client's own timeout sends the body (RFC 9110 §10.1.1).
        if (this.#queued() === 0 && this.#input.length === 0) this.#push(CONTINUE_RESPONSE);
        continue;
      }
      if (step.kind === 'error') {
        this.#fail(step.error);
        return;
      }
      const request = step.request;
      if (!request.keepAlive) this.#stopReading();
      const connection: ConnectionHeader = !request.keepAlive
        ? 'close'
        : request.version === '1.0'
          ? 'keep-alive'
          : undefined;
      const head = request.method === 'HEAD';
      const closeAfter = connection === 'close';
      const decision = this.#route(request.method, request.target, request.body);
      if (decision.kind === 'response') {
        const bytes = writeTextResponse(decision.status, decision.text, connection, {
          ...(decision.allow === undefined ? {} : { allow: decision.allow }),
          omitBody: head,
        });
        this.#answer(bytes, closeAfter);
        continue;
      }
      const op = decision.op;
      const result = this.#runNow?.(op);
      if (result !== undefined) {
        const slot = staticSlot(op.kind, connection, head, result);
        if (slot !== -1 && !closeAfter && this.#nothingToSendYet()) {
          this.#ready = staticOutput(slot, op.kind, connection, head, result);
        } else {
          this.#answer(slotBytes(slot, op.kind, connection, head, result), closeAfter);
        }
        continue;
      }
      const id = this.#line().pushWaiting({ kind: op.kind, connection, head }, closeAfter);
      (this.#work ??= []).push({ id, op });
    }
  }

  /**
   * `route()`, remembered for the last method and target: a keep-alive client repeating its request gets
   * the same decision without the string work (the parser hands back the same target string for the same
   * bytes, so the compare is usually by identity). An echo's decision carries its body and is not kept.
   */
  #route(method: string, target: string, body: Uint8Array): RouteDecision {
    const last = this.#routed;
    if (last !== undefined && target === this.#routedTarget && method === this.#routedMethod) return last;
    const decision = route(method, target, body, this.#limits);
    const keep = decision.kind === 'response' || decision.op.kind !== 'echo';
    this.#routed = keep ? decision : undefined;
    this.#routedMethod = method;
    this.#routedTarget = target;
    return decision;
  }

  /** Nothing queued and nothing in this call's `send` yet: an answer made now would be all it sends so far. */
  #nothingToSendYet(): boolean {
    return this.#queued() === 0 && this.#send === undefined && this.#ready === undefined;
  }

  /**
   * A response known now: straight into `send` when nothing is waiting ahead of it (no slot), else into
   * its place in line. After a closing one nothing more is read (`#stopReading` ran when it was parsed).
   */
  #answer(bytes: readonly Uint8Array[], closeAfter: boolean): void {
    if (this.#queued() > 0) {
      this.#line().pushReady(FIXED, bytes, closeAfter);
      return;
    }
    for (const b of bytes) if (b.length > 0) this.#push(b);
    if (closeAfter) this.#lastSent = true;
  }

  #fail(error: HttpProtocolError): void {
    this.#stopReading();
    this.#rejected ??= { code: error.code, status: error.status, message: error.message };
    this.#line().pushReady(
      FIXED,
      writeTextResponse(error.status, `${error.code}: ${error.message}`, 'close'),
      true,
    );
  }

  #stopReading(): void {
    this.#readingDone = true;
    this.#input.discardAll();
  }

  /**
   * Alternates sending the ready head of the line and parsing more requests until neither makes progress:
   * a freed slot may unpause parsing, and newly parsed 404s may be sendable at once.
   */
  #advance(): void {
    // ResponseQueue#drainAndRefill's loop, written out: its refill closure would be an allocation per call.
    for (;;) {
      if (this.#lastSent || (this.#queued() > 0 && this.#line().drain(this.#sendList()))) {
        this.#closed = true;
        return;
      }
      const before = this.#queued();
      this.#pump();
      if (this.#lastSent) {
        this.#closed = true;
        return;
      }
      if (this.#queued() === before) break;
    }
    if (this.#peerEnded && this.#queued() === 0 && (this.#readingDone || this.#needMore)) this.#closed = true;
  }
}
