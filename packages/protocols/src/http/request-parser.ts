/**
 * An incremental HTTP/1.1 request parser: no networking code at all (h11's rule).
 *
 * Why our own and not llhttp or http-parser-js: the same parser must run unchanged in a blocking worker
 * thread (BIO), a piscina thread and the event loop. llhttp is only reachable through `node:http`, which
 * wants to own the socket, and a worker thread cannot own one. http-parser-js runs anywhere but reports
 * through callbacks and its own limits; we need a parser that returns "need more data" instead of calling
 * back, that enforces exactly our named caps, and that says which of 400 / 413 / 414 / 431 / 501 / 505 a
 * failure means and at which connection byte. It is small, strict (CRLF only, no obs-fold, no CL+TE), and
 * fuzzed (`http-session-fuzz.test.ts`) and differential-tested against http-parser-js and Node's llhttp
 * (`http-parser-differential.test.ts`, `http-parser-llhttp.test.ts`).
 *
 * Contract (Netty's `ByteToMessageDecoder`): `next(input)` either returns one request and consumes its
 * bytes, or returns `need-more` having consumed only what it fully understood. It never rescans: the line
 * scan resumes at `#scanFrom`, so N bytes pushed in any chunking cost O(N).
 *
 * Two ways through a head, one set of rules: a head that is all buffered (nearly every request of a
 * keep-alive client) is checked and noted in one pass (`#parseWholeHead`), with no line search ahead of
 * the checks; a head that arrives in pieces, or holds anything that pass would not accept, goes line by
 * line, which also reports every error and its offset. `http-parser-whole-head.test.ts` holds the two to
 * the same results on generated and mutated input.
 *
 * What a request costs (the event loop serves 100k+ of them a second, so each allocation shows): the
 * returned step and request are one object each per parser, refilled by every `next()` (valid until the
 * next call, like llhttp's callbacks' arguments); a common method is a constant string; header names are
 * recognised by their bytes, and only the values that decide framing (Content-Length, Transfer-Encoding,
 * Connection, Expect) become strings. Every field line is still validated byte by byte. The full header
 * list is built only with `recordHeaders` (the differential tests compare it with other parsers; nothing
 * we serve reads it). So a bodiless request allocates at most its target string, and not even that when
 * it repeats the connection's previous target (`#targetOf`), whatever its route and however it was
 * pipelined.
 *
 *   request-line ─► headers ─┬─► (no body) ──────────────────────────────────► request
 *                            ├─► body-length ──────────────────────────────────► request
 *                            └─► chunk-size ─► chunk-data ─► chunk-data-end ─┐
 *                                   ▲   └─(size 0)─► trailers ─► request     │
 *                                   └────────────────────────────────────────┘
 */

import { HttpProtocolError, httpBadRequest } from '../errors.js';
import type { InputBuffer } from '../input-buffer.js';
import type { ResolvedLimits } from '../limits.js';

/**
 * One parsed request. The object is the parser's own and is refilled by its next `next()` call: read
 * what you need before calling again (the body is never reused: each request gets its own or the shared
 * empty one).
 */
export interface ParsedRequest {
  readonly method: string;
  /** The request-target exactly as sent (origin-form, absolute-form, `*`). */
  readonly target: string;
  readonly version: '1.0' | '1.1';
  /**
   * Field names lower-cased, values with surrounding whitespace trimmed, in arrival order; empty unless
   * the parser was made with `recordHeaders`.
   */
  readonly headers: readonly (readonly [string, string])[];
  readonly body: Uint8Array;
  /** Whether the connection stays open after the response (version default and `Connection`). */
  readonly keepAlive: boolean;
}

export type ParseStep =
  | { readonly kind: 'need-more' }
  /** Headers asked `Expect: 100-continue` and a body follows: the client may wait for `100 Continue`. */
  | { readonly kind: 'continue' }
  | { readonly kind: 'request'; readonly request: ParsedRequest }
  | { readonly kind: 'error'; readonly error: HttpProtocolError };

const NEED_MORE: ParseStep = { kind: 'need-more' };
const CONTINUE: ParseStep = { kind: 'continue' };
const CR = 0x0d;
const LF = 0x0a;
const SP = 0x20;
const HTAB = 0x09;
const EMPTY_BODY = new Uint8Array(0);
/**
 * Longest request-target kept to recognise the next request's same target (`#targetOf`): API paths fit;
 * a longer target just makes its string each time.
 */
const TARGET_CACHE_LENGTH = 256;
/** The largest typed array V8 allocates with its bytes in the object (`V8_TYPED_ARRAY_MAX_SIZE_IN_HEAP`). */
const INLINE_TARGET_BYTES = 64;
/** First body allocation; most bodies fit, bigger ones double from here. */
const BODY_INITIAL_CAPACITY = 16 * 1024;

/** tchar per RFC 9110 §5.6.2: what a method or a field name may contain. */
const TCHAR = new Uint8Array(256);
for (const c of "!#$%&'*+-.^_`|~") TCHAR[c.charCodeAt(0)] = 1;
for (let c = 0x30; c <= 0x39; c++) TCHAR[c] = 1;
for (let c = 0x41; c <= 0x5a; c++) TCHAR[c] = 1;
for (let c = 0x61; c <= 0x7a; c++) TCHAR[c] = 1;

/** field-vchar / SP / HTAB / obs-text: anything but CTLs (incl. CR, LF, NUL) and DEL. */
const FIELD_VALUE = new Uint8Array(256);
FIELD_VALUE[HTAB] = 1;
for (let c = 0x20; c <= 0xff; c++) if (c !== 0x7f) FIELD_VALUE[c] = 1;

/** The first index in [from, to) whose byte is no tchar (the bytes of a method or field name), or `to`. */
function tcharsEnd(b: Uint8Array, from: number, to: number): number {
  while (from < to && TCHAR[b[from]!] === 1) from++;
  return from;
}

/** The first index in [from, to) whose byte cannot be in a request-target (SP, CTLs, DEL, non-ASCII), or `to`. */
function targetCharsEnd(b: Uint8Array, from: number, to: number): number {
  while (from < to && b[from]! > SP && b[from]! < 0x7f) from++;
  return from;
}

/** The first index in [from, to) whose byte cannot be in a field value (`FIELD_VALUE`), or `to`. */
function fieldValueEnd(b: Uint8Array, from: number, to: number): number {
  // Four bytes a step where four are left: V8 re-checks the array's map and bounds and the loop's
  // interrupt on every iteration, so this costs ~17 instructions a byte rather than ~21 (callgrind).
  while (from + 4 <= to) {
    if (FIELD_VALUE[b[from]!] !== 1) return from;
    if (FIELD_VALUE[b[from + 1]!] !== 1) return from + 1;
    if (FIELD_VALUE[b[from + 2]!] !== 1) return from + 2;
    if (FIELD_VALUE[b[from + 3]!] !== 1) return from + 3;
    from += 4;
  }
  while (from < to && FIELD_VALUE[b[from]!] === 1) from++;
  return from;
}

/** Whether bytes [at, at + length) of `b` are the first `length` bytes of `known`. */
function sameBytes(b: Uint8Array, at: number, known: Uint8Array, length: number): boolean {
  let k = 0;
  while (k < length && b[at + k] === known[k]) k++;
  return k === length;
}

/** The first index in [from, to) past optional whitespace (SP / HTAB), or `to`. */
function skipOws(b: Uint8Array, from: number, to: number): number {
  while (from < to && (b[from] === SP || b[from] === HTAB)) from++;
  return from;
}

/** `to` moved back over trailing optional whitespace, never before `from`. */
function trimOwsEnd(b: Uint8Array, from: number, to: number): number {
  while (to > from && (b[to - 1] === SP || b[to - 1] === HTAB)) to--;
  return to;
}

function isHexDigit(c: number): boolean {
  return (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
}

// What Buffer#toString('latin1') calls underneath: takes any Uint8Array (also SharedArrayBuffer-backed),
// allocates no Buffer view per field, and was 4× faster than a char loop for header fields here.
// Undocumented, so the loop stays as the fallback.
const nativeLatin1Slice = (
  Buffer.prototype as unknown as { latin1Slice?: (this: Uint8Array, start: number, end: number) => string }
).latin1Slice;

/** Bytes already validated as single-byte chars; latin1 keeps obs-text bytes 1:1. */
function latin1(bytes: Uint8Array, from: number, to: number): string {
  if (nativeLatin1Slice) return nativeLatin1Slice.call(bytes, from, to);
  let s = '';
  for (let i = from; i < to; i++) s += String.fromCharCode(bytes[i]!);
  return s;
}

/** A field name as bytes, lower case: header names are matched without making a string per line. */
const nameBytes = (name: string): Uint8Array => Uint8Array.from(name, (c) => c.charCodeAt(0));
const CONTENT_LENGTH = nameBytes('content-length');
const TRANSFER_ENCODING = nameBytes('transfer-encoding');
const CONNECTION = nameBytes('connection');
const EXPECT = nameBytes('expect');

/**
 * Whether the `lower.length` bytes of `b` from `start` (a name of that length) are `lower`, ignoring ASCII
 * case. `c | 0x20` lower-cases a letter and leaves '-' as it is; the bytes are tchars already, and no
 * other tchar maps onto a letter or '-'.
 */
function nameIs(b: Uint8Array, start: number, lower: Uint8Array): boolean {
  for (let i = 0; i < lower.length; i++) if ((b[start + i]! | 0x20) !== lower[i]) return false;
  return true;
}

/** The methods clients send, as constant strings: matched by bytes, so no string is made per request. */
const COMMON_METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH'].map((m) => ({
  name: m,
  bytes: nameBytes(m),
}));

/** The method in bytes [start, end) of `b` (already checked to be tchars); case-sensitive (RFC 9110 §9.1). */
function methodOf(b: Uint8Array, start: number, end: number): string {
  for (const m of COMMON_METHODS) {
    if (end - start === m.bytes.length && sameBytes(b, start, m.bytes, m.bytes.length)) return m.name;
  }
  return latin1(b, start, end);
}

export interface HttpRequestParserOptions {
  /** Build `ParsedRequest.headers` (every field as strings). Default false: the session reads none. */
  readonly recordHeaders?: boolean;
}

/**
 * What `next()` returns for a request: one object that is both the step and the request it carries
 * (`request` points back to itself), refilled in place (see `ParsedRequest`). One object, not two, as it
 * is touched on every request of every connection.
 */
interface MutableRequest {
  kind: 'request';
  request: ParsedRequest;
  method: string;
  target: string;
  version: '1.0' | '1.1';
  headers: readonly (readonly [string, string])[];
  body: Uint8Array;
  keepAlive: boolean;
}

const NO_HEADERS: readonly (readonly [string, string])[] = Object.freeze([]);

const NO_VALUES: readonly string[] = Object.freeze([]);

function newRequestStep(): MutableRequest {
  const step: MutableRequest = {
    kind: 'request',
    request: undefined as unknown as ParsedRequest,
    method: '',
    target: '',
    version: '1.1',
    headers: NO_HEADERS,
    body: EMPTY_BODY,
    keepAlive: true,
  };
  step.request = step;
  return step;
}

type State =
  | 'request-line'
  | 'headers'
  | 'body-length'
  | 'chunk-size'
  | 'chunk-data'
  | 'chunk-data-end'
  | 'trailers'
  | 'failed';

export class HttpRequestParser {
  readonly #limits: ResolvedLimits;
  readonly #recordHeaders: boolean;
  readonly #request: MutableRequest = newRequestStep();
  #state: State = 'request-line';
  /** Live index where the search for LF resumes: bytes before it hold no LF. */
  #scanFrom = 0;
  /** The last request-target made into a string (`#targetOf`); '' when none is kept. */
  #lastTarget = '';
  /** `#lastTarget`'s bytes (its first `#lastTarget.length`); allocated with the first target kept. */
  #lastTargetBytes: Uint8Array = EMPTY_BODY;

  // Per-request state, reset by #emit().
  #method = '';
  #target = '';
  #version: '1.0' | '1.1' = '1.1';
  /** Only with `recordHeaders`; otherwise stays the frozen empty list. */
  #headers: [string, string][] = [];
  #headerBytes = 0;
  /** Header plus trailer fields seen; trailers are counted but not kept. */
  #fieldCount = 0;
  /** Body bytes so far, in a buffer grown as they arrive (never sized by an untrusted length up front). */
  #body: Uint8Array = EMPTY_BODY;
  #bodyFilled = 0;
  /** Content-Length, or for chunked the sum of the chunk sizes announced so far. */
  #bodyExpected = 0;
  #chunkRemaining = 0;
  #keepAlive = true;
  #expectContinue = false;
  // The headers that decide framing and persistence, noted as they are parsed (`#noteField`), kept as
  // the parser's own fields rather than an object of their own: one object less to reach per request.
  #hosts = 0;
  /** Content-Length values (split at commas); `undefined` until the first one, so a GET allocates none. */
  #lengths: string[] | undefined;
  /** Transfer-Encoding codings (split at commas); `undefined` until the first one. */
  #codings: string[] | undefined;
  #closeToken = false;
  #keepAliveToken = false;
  #expectToken = false;

  constructor(limits: ResolvedLimits, options: HttpRequestParserOptions = {}) {
    this.#limits = limits;
    this.#recordHeaders = options.recordHeaders ?? false;
  }

  /** Between requests: together with an empty input buffer, nothing is half-read. */
  get betweenRequests(): boolean {
    return this.#state === 'request-line';
  }

  /** In the request line or header section (with `betweenRequests`, a model's header deadline). */
  get inHead(): boolean {
    return this.#state === 'request-line' || this.#state === 'headers';
  }

  next(input: InputBuffer): ParseStep {
    for (;;) {
      switch (this.#state) {
        case 'request-line': {
          // Between requests with nothing buffered (after every keep-alive request): nothing to look at.
          if (input.length === 0) return NEED_MORE;
          // A whole head already buffered (nearly every request of a keep-alive client) is parsed in one
          // pass; anything else, or anything unusual in it, is left to the line-by-line path below. The
          // gate keeps it to one attempt per request: the line path moves #scanFrom or the state on.
          if (this.#scanFrom === 0 && this.#parseWholeHead(input)) {
            const step = this.#endOfHead(input);
            if (step !== undefined) return step;
            continue;
          }
          const end = this.#findLineEnd(input, this.#limits.maxRequestLineBytes, 'request-line');
          if (typeof end !== 'number') return end;
          if (end === 0) {
            // RFC 9112 §2.2: ignore empty lines before a request line (clients left over from a POST).
            input.consume(2);
            continue;
          }
          const failure = this.#parseRequestLine(
            input.backing,
            input.backingStart,
            input.backingStart + end,
            input.offset,
          );
          if (failure) return this.#fail(failure);
          input.consume(end + 2);
          this.#state = 'headers';
          continue;
        }
        case 'headers':
        case 'trailers': {
          // Each field line costs its bytes plus CRLF; the blank line ending the section is free.
          const budget = Math.max(0, this.#limits.maxHeaderBytes - this.#headerBytes - 2);
          const end = this.#findLineEnd(input, budget, 'headers');
          if (typeof end !== 'number') return end;
          if (end === 0) {
            input.consume(2);
            if (this.#state === 'trailers') return this.#emit(this.#body.subarray(0, this.#bodyFilled));
            const step = this.#endOfHead(input);
            if (step !== undefined) return step;
            continue;
          }
          const failure = this.#parseFieldLine(
            input.backing,
            input.backingStart,
            input.backingStart + end,
            input.offset,
            this.#state === 'headers',
          );
          if (failure) return this.#fail(failure);
          this.#headerBytes += end + 2;
          input.consume(end + 2);
          continue;
        }
        case 'body-length': {
          const n = Math.min(input.length, this.#bodyExpected - this.#bodyFilled);
          if (n > 0) {
            this.#appendBody(input.view(0, n));
            input.consume(n);
          }
          if (this.#bodyFilled < this.#bodyExpected) return NEED_MORE;
          return this.#emit(this.#body);
        }
        case 'chunk-size': {
          const end = this.#findLineEnd(input, this.#limits.maxChunkLineBytes, 'chunk-size');
          if (typeof end !== 'number') return end;
          const failure = this.#parseChunkSize(input.view(0, end), input.offset);
          if (failure) return this.#fail(failure);
          input.consume(end + 2);
          continue;
        }
        case 'chunk-data': {
          const n = Math.min(input.length, this.#chunkRemaining);
          if (n > 0) {
            this.#appendBody(input.view(0, n));
            this.#chunkRemaining -= n;
            input.consume(n);
          }
          if (this.#chunkRemaining > 0) return NEED_MORE;
          this.#state = 'chunk-data-end';
          continue;
        }
        case 'chunk-data-end': {
          if (input.length < 2) {
            if (input.length === 1 && input.at(0) !== CR) {
              return this.#fail(httpBadRequest('chunk data not followed by CRLF', input.offset));
            }
            return NEED_MORE;
          }
          if (input.at(0) !== CR || input.at(1) !== LF) {
            return this.#fail(httpBadRequest('chunk data not followed by CRLF', input.offset));
          }
          input.consume(2);
          this.#state = 'chunk-size';
          continue;
        }
        case 'failed':
          return NEED_MORE;
      }
    }
  }

  /**
   * The blank line ending the header section was consumed: decide the body (RFC 9112 §6.3). Returns the
   * step to return, or `undefined` to go on parsing the body.
   */
  #endOfHead(input: InputBuffer): ParseStep | undefined {
    const framing = this.#startBody(input.offset);
    if (framing instanceof HttpProtocolError) return this.#fail(framing);
    if (framing === 'none') return this.#emit(EMPTY_BODY);
    if (this.#expectContinue) return CONTINUE;
    return undefined;
  }

  /**
   * The whole request head (request line to blank line) in one pass over the buffered bytes, with every
   * check the line-by-line path makes, fused into one loop per part; no line search first and no call per
   * line. It accepts exactly what that path accepts: at the first thing it would not accept, or if the
   * head is not all here, it undoes what it noted and returns false, and the line path parses the same
   * bytes from the start and reports any error with its exact offset. True: the head was consumed up to
   * and including the blank line, and the request line and framing headers are noted.
   */
  #parseWholeHead(input: InputBuffer): boolean {
    const b = input.backing;
    const start = input.backingStart;
    const end = start + input.length;
    const limits = this.#limits;
    let i = start;
    // GET, most requests by far, is recognised from its four bytes; any other method by its tchars.
    const isGet =
      end - start > 4 && b[i] === 0x47 && b[i + 1] === 0x45 && b[i + 2] === 0x54 && b[i + 3] === SP;
    if (isGet) i += 3;
    else i = tcharsEnd(b, i, end);
    if (i === start || i >= end || b[i] !== SP) return false;
    const methodEnd = i++;
    const targetStart = i;
    // The same target as the last request (a keep-alive client repeating itself): those bytes were
    // checked then, so comparing them is the whole check, and the string is reused.
    const known = this.#lastTarget.length;
    const repeated =
      known > 0 &&
      targetStart + known < end &&
      b[targetStart + known] === SP &&
      sameBytes(b, targetStart, this.#lastTargetBytes, known);
    if (repeated) i += known;
    else i = targetCharsEnd(b, i, end);
    if (i === targetStart || i >= end || b[i] !== SP) return false;
    const targetEnd = i++;
    // "HTTP/1." DIGIT CR LF: 1.x only; anything else (505, 400) is the line path's to report.
    if (
      i + 10 > end ||
      b[i] !== 0x48 ||
      b[i + 1] !== 0x54 ||
      b[i + 2] !== 0x54 ||
      b[i + 3] !== 0x50 ||
      b[i + 4] !== 0x2f ||
      b[i + 5] !== 0x31 ||
      b[i + 6] !== 0x2e ||
      b[i + 7]! < 0x30 ||
      b[i + 7]! > 0x39 ||
      b[i + 8] !== CR ||
      b[i + 9] !== LF
    ) {
      return false;
    }
    if (i + 8 - start > limits.maxRequestLineBytes) return false;
    const minor = b[i + 7]!;
    i += 10;
    let headerBytes = 0;
    let fields = 0;
    for (;;) {
      if (i >= end) return this.#undoHead();
      if (b[i] === CR) break;
      const lineStart = i;
      // A leading SP/HTAB (obs-fold) is no tchar, so it ends here as an empty name.
      i = tcharsEnd(b, i, end);
      if (i === lineStart || i >= end || b[i] !== 0x3a) return this.#undoHead();
      const nameEnd = i++;
      const valueStart = i;
      i = fieldValueEnd(b, i, end);
      if (i + 1 >= end || b[i] !== CR || b[i + 1] !== LF) return this.#undoHead();
      const lineLength = i - lineStart;
      if (lineLength > Math.max(0, limits.maxHeaderBytes - headerBytes - 2)) return this.#undoHead();
      headerBytes += lineLength + 2;
      if (++fields > limits.maxHeaderCount) return this.#undoHead();
      const from = skipOws(b, valueStart, i);
      this.#noteField(b, lineStart, nameEnd, from, trimOwsEnd(b, from, i));
      i += 2;
    }
    if (i + 1 >= end || b[i + 1] !== LF) return this.#undoHead();
    this.#version = minor === 0x30 ? '1.0' : '1.1';
    this.#method = isGet ? 'GET' : methodOf(b, start, methodEnd);
    // Not repeated: the bytes differ from the last target's (equal bytes would have matched above).
    this.#target = repeated ? this.#lastTarget : this.#newTarget(b, targetStart, targetEnd);
    this.#headerBytes = headerBytes;
    this.#fieldCount = fields;
    input.consume(i + 2 - start);
    return true;
  }

  /** What `#parseWholeHead` noted before it gave up, undone: the line path starts from a clean request. */
  #undoHead(): false {
    this.#resetFraming();
    if (this.#recordHeaders) this.#headers.length = 0;
    return false;
  }

  /**
   * The request-target as a string. A keep-alive client usually asks for the same target again, so the
   * last one (up to `TARGET_CACHE_LENGTH` chars) is kept and an equal target reuses it: a compare in
   * place of making a string per request, and no copy of its bytes kept beside it.
   */
  #targetOf(b: Uint8Array, from: number, to: number): string {
    const last = this.#lastTarget;
    const length = to - from;
    if (length === last.length && sameBytes(b, from, this.#lastTargetBytes, length)) return last;
    return this.#newTarget(b, from, to);
  }

  /** A target that is not the last one, made into a string and kept for the next request to compare with. */
  #newTarget(b: Uint8Array, from: number, to: number): string {
    const length = to - from;
    const target = latin1(b, from, to);
    // A long target is not kept: comparing it would cost about what making it does.
    if (length > TARGET_CACHE_LENGTH) {
      this.#lastTarget = '';
      return target;
    }
    // Bytes compare with bytes at about a third of the cost of comparing them with a string's char codes.
    // Up to 64 bytes V8 keeps a typed array's bytes inside the object itself, beside its header: one
    // cache line less to miss per request than a separate backing store. Longer targets get one.
    if (this.#lastTargetBytes.length < length) {
      this.#lastTargetBytes = new Uint8Array(
        length <= INLINE_TARGET_BYTES ? INLINE_TARGET_BYTES : TARGET_CACHE_LENGTH,
      );
    }
    this.#lastTargetBytes.set(b.subarray(from, to));
    this.#lastTarget = target;
    return target;
  }

  /**
   * Live index of the CR of the first CRLF, or a step to return. Enforces `limit` on the line (CRLF
   * excluded) before the line is complete, so a peer cannot make us buffer past a cap by never sending LF.
   */
  #findLineEnd(
    input: InputBuffer,
    limit: number,
    what: 'request-line' | 'headers' | 'chunk-size',
  ): number | ParseStep {
    const lf = input.indexOf(LF, this.#scanFrom);
    if (lf === -1) {
      // A CR may be the last byte of a line whose LF is still in flight: allow limit + 1 buffered bytes.
      if (input.length > limit + 1) return this.#fail(this.#tooLong(what, input.offset + limit));
      this.#scanFrom = input.length;
      return NEED_MORE;
    }
    this.#scanFrom = 0;
    if (lf === 0 || input.at(lf - 1) !== CR) return this.#fail(httpBadRequest('bare LF', input.offset + lf));
    const end = lf - 1;
    if (end > limit) return this.#fail(this.#tooLong(what, input.offset + limit));
    return end;
  }

  #tooLong(what: 'request-line' | 'headers' | 'chunk-size', offset: number): HttpProtocolError {
    if (what === 'request-line') {
      // RFC 9110 §15.5.15: a request-target longer than the server will parse MUST get 414.
      return new HttpProtocolError('IOLAB_HTTP_URI_TOO_LONG', 414, 'request line too long', offset);
    }
    if (what === 'headers') {
      return new HttpProtocolError('IOLAB_HTTP_HEADERS_TOO_LARGE', 431, 'header section too large', offset);
    }
    return httpBadRequest('chunk-size line too long', offset);
  }

  /**
   * The request line, bytes [start, end) of `b` (CRLF excluded); indices are absolute so no view is made.
   * `base` is the connection offset of `start`.
   */
  #parseRequestLine(b: Uint8Array, start: number, end: number, base: number): HttpProtocolError | undefined {
    let i = tcharsEnd(b, start, end);
    if (i === start || i === end || b[i] !== SP)
      return httpBadRequest('malformed method', base + (i - start));
    const methodEnd = i++;
    const targetStart = i;
    i = targetCharsEnd(b, i, end);
    if (i === targetStart || i === end || b[i] !== SP) {
      return httpBadRequest('malformed request-target', base + (i - start));
    }
    const targetEnd = i++;
    // HTTP-version = "HTTP/" DIGIT "." DIGIT (RFC 9112 §2.3), case-sensitive.
    const wellFormed =
      end - i === 8 &&
      b[i] === 0x48 &&
      b[i + 1] === 0x54 &&
      b[i + 2] === 0x54 &&
      b[i + 3] === 0x50 &&
      b[i + 4] === 0x2f &&
      b[i + 5]! >= 0x30 &&
      b[i + 5]! <= 0x39 &&
      b[i + 6] === 0x2e &&
      b[i + 7]! >= 0x30 &&
      b[i + 7]! <= 0x39;
    if (!wellFormed) return httpBadRequest('malformed HTTP-version', base + (i - start));
    if (b[i + 5] !== 0x31) {
      return new HttpProtocolError(
        'IOLAB_HTTP_VERSION_NOT_SUPPORTED',
        505,
        'only HTTP/1.x is served',
        base + (i - start) + 5,
      );
    }
    // RFC 9110 §2.5: a higher 1.x minor is answered as 1.1.
    this.#version = b[i + 7] === 0x30 ? '1.0' : '1.1';
    this.#method = methodOf(b, start, methodEnd);
    this.#target = this.#targetOf(b, targetStart, targetEnd);
    return undefined;
  }

  /**
   * One field line, bytes [start, end) of `b` (CRLF excluded); indices are absolute so no view is made
   * per line. `base` is the connection offset of `start`.
   */
  #parseFieldLine(
    b: Uint8Array,
    start: number,
    end: number,
    base: number,
    isHeader: boolean,
  ): HttpProtocolError | undefined {
    if (b[start] === SP || b[start] === HTAB) {
      // RFC 9112 §5.2: obs-fold may be rejected; accepting it is a request-smuggling vector.
      return httpBadRequest('obsolete line folding', base);
    }
    let i = tcharsEnd(b, start, end);
    if (i === start || i === end || b[i] !== 0x3a) {
      // Covers "Name : v" too: RFC 9112 §5.1 says whitespace before the colon MUST get 400.
      return httpBadRequest('malformed header field name', base + (i - start));
    }
    const nameEnd = i++;
    const invalid = fieldValueEnd(b, i, end);
    if (invalid < end) return httpBadRequest('invalid byte in header value', base + (invalid - start));
    const from = skipOws(b, i, end);
    const to = trimOwsEnd(b, from, end);
    if (++this.#fieldCount > this.#limits.maxHeaderCount) {
      return new HttpProtocolError('IOLAB_HTTP_HEADERS_TOO_LARGE', 431, 'too many header fields', base);
    }
    // Trailers count against the same budget but are dropped: nothing we serve reads them.
    if (!isHeader) return undefined;
    this.#noteField(b, start, nameEnd, from, to);
    return undefined;
  }

  /**
   * A header field, name bytes [start, nameEnd) and trimmed value [from, to) of `b`, already validated:
   * recorded (`recordHeaders`) and, if it decides framing or persistence, noted now, so the header list
   * is not walked again. Names are matched as bytes; only these few values become strings.
   */
  #noteField(b: Uint8Array, start: number, nameEnd: number, from: number, to: number): void {
    if (this.#recordHeaders)
      this.#headers.push([latin1(b, start, nameEnd).toLowerCase(), latin1(b, from, to)]);
    // By length first: most fields are none of these, and Host (in every request) is four bytes.
    switch (nameEnd - start) {
      case 4:
        if (
          (b[start]! | 0x20) === 0x68 &&
          (b[start + 1]! | 0x20) === 0x6f &&
          (b[start + 2]! | 0x20) === 0x73 &&
          (b[start + 3]! | 0x20) === 0x74
        ) {
          this.#hosts++;
        }
        return;
      case 14: // content-length
        if (nameIs(b, start, CONTENT_LENGTH)) (this.#lengths ??= []).push(...latin1(b, from, to).split(','));
        return;
      case 17: // transfer-encoding
        if (nameIs(b, start, TRANSFER_ENCODING)) {
          (this.#codings ??= []).push(...latin1(b, from, to).split(','));
        }
        return;
      case 6: // expect
        if (nameIs(b, start, EXPECT))
          this.#expectToken = latin1(b, from, to).toLowerCase() === '100-continue';
        return;
      case 10: // connection
        if (nameIs(b, start, CONNECTION)) this.#noteConnection(latin1(b, from, to));
        return;
    }
  }

  #noteConnection(value: string): void {
    for (const token of value.split(',')) {
      const t = token.trim().toLowerCase();
      if (t === 'close') this.#closeToken = true;
      else if (t === 'keep-alive') this.#keepAliveToken = true;
    }
  }

  /** After the header section: decide the body framing (RFC 9112 §6.3) and connection persistence. */
  #startBody(offset: number): HttpProtocolError | 'none' | 'body' {
    // Most requests: one Host and no framing, persistence or expectation header at all.
    if (
      this.#hosts === 1 &&
      this.#lengths === undefined &&
      this.#codings === undefined &&
      !this.#closeToken &&
      !this.#keepAliveToken &&
      !this.#expectToken
    ) {
      this.#keepAlive = this.#version === '1.1';
      this.#expectContinue = false;
      return 'none';
    }
    const hosts = this.#hosts;
    const close = this.#closeToken;
    const keepAliveToken = this.#keepAliveToken;
    const expectContinue = this.#expectToken;
    const lengths = this.#lengths ?? NO_VALUES;
    const codings = this.#codings ?? NO_VALUES;
    // RFC 9112 §3.2: a 1.1 request without exactly one Host MUST get 400 (Node does the same).
    if (hosts > 1 || (hosts === 0 && this.#version === '1.1')) {
      return httpBadRequest(hosts > 1 ? 'more than one Host' : 'missing Host', offset);
    }
    this.#keepAlive = !close && (this.#version === '1.1' || keepAliveToken);
    // RFC 9110 §10.1.1: a 1.0 client cannot have meant it.
    this.#expectContinue = expectContinue && this.#version === '1.1';

    if (codings.length > 0) {
      if (lengths.length > 0) {
        // RFC 9112 §6.1 allows TE to win, but CL+TE is the classic smuggling pair: refuse it outright.
        return httpBadRequest('both Content-Length and Transfer-Encoding', offset);
      }
      if (this.#version === '1.0') return httpBadRequest('Transfer-Encoding in an HTTP/1.0 request', offset);
      const list = codings.map((c) => c.trim().toLowerCase()).filter((c) => c.length > 0);
      if (list.length === 0 || list.at(-1) !== 'chunked') {
        return httpBadRequest('Transfer-Encoding must end with chunked', offset);
      }
      // RFC 9112 §6.1: a sender MUST NOT apply chunked more than once. Parsers that unwrap one layer and
      // those that refuse disagree on where the body ends, so it is refused, as llhttp does.
      if (list.indexOf('chunked') !== list.length - 1) {
        return httpBadRequest('chunked applied more than once', offset);
      }
      if (list.length > 1) {
        return new HttpProtocolError(
          'IOLAB_HTTP_NOT_IMPLEMENTED',
          501,
          `unsupported transfer coding ${list[0]}`,
          offset,
        );
      }
      this.#state = 'chunk-size';
      return 'body';
    }

    if (lengths.length > 0) {
      const first = lengths[0]!.trim();
      for (const l of lengths) {
        if (l.trim() !== first) return httpBadRequest('conflicting Content-Length values', offset);
      }
      // RFC 9110 §8.6 lets a recipient either merge identical values or reject them; we take the strict
      // reading (as llhttp does): a repeated length is what a smuggling probe sends, never a real client.
      if (lengths.length > 1) return httpBadRequest('repeated Content-Length', offset);
      if (!/^[0-9]+$/.test(first)) return httpBadRequest('malformed Content-Length', offset);
      const length = first.length > 15 ? Number.POSITIVE_INFINITY : Number(first);
      if (length > this.#limits.maxBodyBytes) {
        return new HttpProtocolError(
          'IOLAB_HTTP_BODY_TOO_LARGE',
          413,
          `body of ${first} bytes over ${this.#limits.maxBodyBytes}`,
          offset,
        );
      }
      if (length > 0) {
        this.#bodyExpected = length;
        this.#state = 'body-length';
        return 'body';
      }
    }
    return 'none';
  }

  #parseChunkSize(line: Uint8Array, base: number): HttpProtocolError | undefined {
    let i = 0;
    while (i < line.length && isHexDigit(line[i]!)) i++;
    if (i === 0) return httpBadRequest('malformed chunk size', base);
    // chunk-ext = *( BWS ";" BWS name [ BWS "=" BWS value ] ): we skip it, but only over sane bytes.
    const j = skipOws(line, i, line.length);
    // BWS is allowed only before a ";" (RFC 9112 §7.1.1): "5 " alone is not a chunk-size line.
    if (j === line.length && j > i) return httpBadRequest('whitespace after chunk size', base + i);
    if (j < line.length && line[j] !== 0x3b) return httpBadRequest('malformed chunk extension', base + j);
    const invalid = fieldValueEnd(line, j, line.length);
    if (invalid < line.length) return httpBadRequest('invalid byte in chunk extension', base + invalid);
    // 13 hex digits already exceed any cap we would accept; stop before floats lose integers.
    const size = i > 13 ? Number.POSITIVE_INFINITY : Number.parseInt(latin1(line, 0, i), 16);
    if (this.#bodyExpected + size > this.#limits.maxBodyBytes) {
      return new HttpProtocolError(
        'IOLAB_HTTP_BODY_TOO_LARGE',
        413,
        `chunked body over ${this.#limits.maxBodyBytes} bytes`,
        base,
      );
    }
    this.#bodyExpected += size;
    if (size === 0) {
      this.#state = 'trailers';
    } else {
      this.#chunkRemaining = size;
      this.#state = 'chunk-data';
    }
    return undefined;
  }

  /**
   * Copies body bytes in, doubling the buffer as needed: memory follows the bytes actually received (at
   * most 2× them), so headers claiming 1 MiB followed by silence cost nothing.
   */
  #appendBody(bytes: Uint8Array): void {
    const need = this.#bodyFilled + bytes.length;
    if (need > this.#body.length) {
      // Content-Length: never past the announced length. Chunked: the announced sum only covers chunks
      // seen so far, so cap at the body limit instead, or every chunk would reallocate (quadratic).
      const ceiling = this.#state === 'body-length' ? this.#bodyExpected : this.#limits.maxBodyBytes;
      const capacity = Math.min(Math.max(this.#body.length * 2, BODY_INITIAL_CAPACITY, need), ceiling);
      const grown = new Uint8Array(capacity);
      // Nothing filled yet means #body is the shared EMPTY_BODY: never touch it (it is lent to requests).
      if (this.#bodyFilled > 0) grown.set(this.#body.subarray(0, this.#bodyFilled));
      this.#body = grown;
    }
    this.#body.set(bytes, this.#bodyFilled);
    this.#bodyFilled = need;
  }

  #emit(body: Uint8Array): ParseStep {
    const request = this.#request;
    request.method = this.#method;
    request.target = this.#target;
    request.version = this.#version;
    request.body = body;
    request.keepAlive = this.#keepAlive;
    if (this.#recordHeaders) {
      request.headers = this.#headers;
      this.#headers = [];
    }
    this.#state = 'request-line';
    this.#headerBytes = 0;
    this.#fieldCount = 0;
    this.#body = EMPTY_BODY;
    this.#bodyFilled = 0;
    this.#bodyExpected = 0;
    this.#chunkRemaining = 0;
    this.#keepAlive = true;
    this.#expectContinue = false;
    this.#resetFraming();
    return request;
  }

  #resetFraming(): void {
    this.#hosts = 0;
    this.#lengths = undefined;
    this.#codings = undefined;
    this.#closeToken = false;
    this.#keepAliveToken = false;
    this.#expectToken = false;
  }

  #fail(error: HttpProtocolError): ParseStep {
    this.#state = 'failed';
    return { kind: 'error', error };
  }
}
