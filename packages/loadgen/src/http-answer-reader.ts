/**
 * Reads exactly one HTTP/1.1 response from a byte stream and says whether it is a complete, good answer
 * (status 200, body of exactly Content-Length bytes). No I/O: fed bytes, it answers "need more", "answered"
 * or "bad". It keeps only the head (capped); the body is counted, not stored, so memory per connection stays
 * at most {@link MAX_ANSWER_HEAD_BYTES} however large the answer.
 *
 * ```text
 * HTTP/1.1 200 OK\r\n               ← status line: 200 or "bad-status"
 * Content-Length: 13\r\n           ← required: every iolab server sends it and never chunks
 * \r\n                              ← head ends (≤ MAX_ANSWER_HEAD_BYTES, else "bad-answer")
 * Hello, World!                     ← 13 bytes counted → "answered"
 * ```
 */

/** Largest response head accepted: the servers' heads are ~100 bytes; 16 KiB leaves room for any proxy. */
export const MAX_ANSWER_HEAD_BYTES = 16 * 1024;

export type AnswerProgress =
  | { readonly kind: 'need-more' }
  | { readonly kind: 'answered' }
  /** `code` is what the caller counts: "bad-status" (a well-formed non-200) or "bad-answer" (anything else). */
  | { readonly kind: 'bad'; readonly code: 'bad-status' | 'bad-answer'; readonly reason: string };

const NEED_MORE: AnswerProgress = { kind: 'need-more' };
const HEAD_END = Buffer.from('\r\n\r\n', 'latin1');

export class HttpAnswerReader {
  readonly #maxBodyBytes: number;
  #head: Buffer = Buffer.alloc(0);
  /** Body bytes still expected once the head is read; undefined while reading the head. */
  #bodyLeft: number | undefined;
  #settled: AnswerProgress | undefined;

  /** `maxBodyBytes`: a larger Content-Length is a bad answer, so time spent reading is bounded too. */
  constructor(maxBodyBytes: number) {
    this.#maxBodyBytes = maxBodyBytes;
  }

  /** Feeds the next bytes. Once it has said "answered" or "bad", it says so again and reads nothing more. */
  push(chunk: Uint8Array): AnswerProgress {
    if (this.#settled) return this.#settled;
    let rest: Uint8Array = chunk;
    if (this.#bodyLeft === undefined) {
      const searchFrom = Math.max(0, this.#head.length - (HEAD_END.length - 1));
      this.#head = Buffer.concat([this.#head, chunk]);
      const end = this.#head.indexOf(HEAD_END, searchFrom);
      if (end < 0) {
        return this.#head.length > MAX_ANSWER_HEAD_BYTES
          ? this.#settle({
              kind: 'bad',
              code: 'bad-answer',
              reason: `head over ${MAX_ANSWER_HEAD_BYTES} bytes`,
            })
          : NEED_MORE;
      }
      if (end + HEAD_END.length > MAX_ANSWER_HEAD_BYTES) {
        return this.#settle({
          kind: 'bad',
          code: 'bad-answer',
          reason: `head over ${MAX_ANSWER_HEAD_BYTES} bytes`,
        });
      }
      const headEnd = end + HEAD_END.length;
      const verdict = this.#readHead(this.#head.subarray(0, end).toString('latin1'));
      if (verdict) return this.#settle(verdict);
      rest = this.#head.subarray(headEnd);
      this.#head = Buffer.alloc(0);
    }
    const left = (this.#bodyLeft as number) - rest.length;
    this.#bodyLeft = Math.max(0, left);
    // Bytes beyond the body (left < 0) would be a second response nobody asked for; one answer is all we read.
    return left <= 0 ? this.#settle({ kind: 'answered' }) : NEED_MORE;
  }

  /** Checks the head; sets the body length and returns undefined when it is a 200 we can read to its end. */
  #readHead(head: string): AnswerProgress | undefined {
    const lines = head.split('\r\n');
    const status = /^HTTP\/1\.[01] (\d{3})(?: |$)/.exec(lines[0] ?? '');
    if (!status) return { kind: 'bad', code: 'bad-answer', reason: 'not an HTTP/1.x status line' };
    if (status[1] !== '200') return { kind: 'bad', code: 'bad-status', reason: `status ${status[1]}` };
    let length: number | undefined;
    for (const line of lines.slice(1)) {
      const colon = line.indexOf(':');
      if (colon <= 0) return { kind: 'bad', code: 'bad-answer', reason: 'malformed header line' };
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === 'transfer-encoding') {
        return { kind: 'bad', code: 'bad-answer', reason: 'Transfer-Encoding (iolab servers never chunk)' };
      }
      if (name === 'content-length') {
        if (!/^\d+$/.test(value) || (length !== undefined && length !== Number(value))) {
          return { kind: 'bad', code: 'bad-answer', reason: `bad Content-Length ${value}` };
        }
        length = Number(value);
      }
    }
    if (length === undefined) return { kind: 'bad', code: 'bad-answer', reason: 'no Content-Length' };
    if (length > this.#maxBodyBytes) {
      return {
        kind: 'bad',
        code: 'bad-answer',
        reason: `Content-Length ${length} over ${this.#maxBodyBytes}`,
      };
    }
    this.#bodyLeft = length;
    return undefined;
  }

  #settle(progress: AnswerProgress): AnswerProgress {
    this.#settled = progress;
    this.#head = Buffer.alloc(0);
    return progress;
  }
}
