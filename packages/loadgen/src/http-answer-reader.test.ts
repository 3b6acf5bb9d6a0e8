import { describe, expect, it } from 'vitest';
import { type AnswerProgress, HttpAnswerReader, MAX_ANSWER_HEAD_BYTES } from './http-answer-reader.js';

const OK = Buffer.from(
  'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 13\r\n\r\nHello, World!',
);

/** Feeds `bytes` cut at `cuts` and returns what the reader said after each piece. */
function feed(bytes: Buffer, cuts: number[], maxBody = 1024): AnswerProgress[] {
  const reader = new HttpAnswerReader(maxBody);
  const out: AnswerProgress[] = [];
  let at = 0;
  for (const cut of [...cuts, bytes.length]) {
    out.push(reader.push(bytes.subarray(at, cut)));
    at = cut;
  }
  return out;
}

describe('HttpAnswerReader', () => {
  it('says "answered" exactly when the last body byte arrives, whatever the split', () => {
    for (let cut = 0; cut <= OK.length; cut++) {
      const said = feed(OK, [cut]);
      expect(said.at(-1)).toEqual({ kind: 'answered' });
      if (cut < OK.length) expect(said[0]).toEqual({ kind: 'need-more' });
    }
    for (let a = 1; a < OK.length; a++) {
      for (let b = a; b < OK.length; b++) {
        const said = feed(OK, [a, b]);
        expect(said.map((p) => p.kind)).toEqual(['need-more', 'need-more', 'answered']);
      }
    }
  });

  it('one byte short is not an answer', () => {
    expect(feed(OK.subarray(0, OK.length - 1), [])).toEqual([{ kind: 'need-more' }]);
  });

  it('an empty 200 body is an answer as soon as the head ends', () => {
    expect(feed(Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n'), [])[0]).toEqual({
      kind: 'answered',
    });
  });

  it('tells a non-200 status from a broken answer', () => {
    const status = feed(Buffer.from('HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n'), []);
    expect(status[0]).toMatchObject({ kind: 'bad', code: 'bad-status' });
    for (const broken of [
      'SSH-2.0-OpenSSH\r\n\r\n',
      'HTTP/1.1 200 OK\r\n\r\n',
      'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n',
      'HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n',
      'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n',
      'HTTP/1.1 200 OK\r\nno colon\r\n\r\n',
      'HTTP/1.1 200 OK\r\nContent-Length: 2048\r\n\r\n',
    ]) {
      expect(feed(Buffer.from(broken), [])[0], broken).toMatchObject({ kind: 'bad', code: 'bad-answer' });
    }
  });

  it('caps the head: an endless head is refused once past the cap, not buffered', () => {
    const reader = new HttpAnswerReader(1024);
    expect(reader.push(Buffer.from('HTTP/1.1 200 OK\r\n')).kind).toBe('need-more');
    const header = Buffer.from(`X-Filler: ${'a'.repeat(1000)}\r\n`);
    let said: AnswerProgress = { kind: 'need-more' };
    let fed = 0;
    while (said.kind === 'need-more' && fed < 4 * MAX_ANSWER_HEAD_BYTES) {
      said = reader.push(header);
      fed += header.length;
    }
    expect(said).toMatchObject({ kind: 'bad', code: 'bad-answer' });
    expect(fed).toBeLessThanOrEqual(MAX_ANSWER_HEAD_BYTES + 2 * header.length);
  });

  it('after its verdict it reads nothing more', () => {
    const reader = new HttpAnswerReader(1024);
    expect(reader.push(OK).kind).toBe('answered');
    expect(reader.push(Buffer.from('garbage')).kind).toBe('answered');
  });
});
