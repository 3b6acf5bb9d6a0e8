import { describe, expect, it } from 'vitest';
import { ascii, bytewise, drive, parseResponses } from '../test-session-driver.js';
import { HttpServerSession } from './server-session.js';

const ok = 'GET /plaintext HTTP/1.1\r\nHost: a\r\n\r\n';

/** [name, request bytes, status]: every one must get exactly that status, then close. */
const CORPUS: readonly (readonly [string, string, number])[] = [
  ['lower-case version', 'GET / http/1.1\r\nHost: a\r\n\r\n', 400],
  ['missing version', 'GET /\r\nHost: a\r\n\r\n', 400],
  ['double space', 'GET  / HTTP/1.1\r\nHost: a\r\n\r\n', 400],
  ['tab separator', 'GET\t/ HTTP/1.1\r\nHost: a\r\n\r\n', 400],
  ['bad method char', 'G(T / HTTP/1.1\r\nHost: a\r\n\r\n', 400],
  ['empty method', ' / HTTP/1.1\r\nHost: a\r\n\r\n', 400],
  ['version 1.10', 'GET / HTTP/1.10\r\nHost: a\r\n\r\n', 400],
  ['version 2.0', 'GET / HTTP/2.0\r\nHost: a\r\n\r\n', 505],
  ['control char in target', 'GET /a\x01b HTTP/1.1\r\nHost: a\r\n\r\n', 400],
  ['DEL in target', 'GET /a\x7fb HTTP/1.1\r\nHost: a\r\n\r\n', 400],
  ['non-ASCII in target', 'GET /\xe9 HTTP/1.1\r\nHost: a\r\n\r\n', 400],
  ['bare LF after request line', 'GET / HTTP/1.1\nHost: a\r\n\r\n', 400],
  ['bare LF after header', 'GET / HTTP/1.1\r\nHost: a\n\r\n', 400],
  ['bare CR in header value', 'GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n', 400],
  ['NUL in header value', 'GET / HTTP/1.1\r\nHost: a\x00\r\n\r\n', 400],
  ['space before colon', 'GET / HTTP/1.1\r\nHost : a\r\n\r\n', 400],
  ['no colon', 'GET / HTTP/1.1\r\nHost a\r\n\r\n', 400],
  ['empty field name', 'GET / HTTP/1.1\r\n: a\r\nHost: a\r\n\r\n', 400],
  ['obs-fold', 'GET / HTTP/1.1\r\nHost: a\r\nX-A: b\r\n c\r\n\r\n', 400],
  ['missing Host in 1.1', 'GET /plaintext HTTP/1.1\r\n\r\n', 400],
  ['two Hosts', 'GET /plaintext HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n', 400],
  [
    'conflicting Content-Length',
    'POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab',
    400,
  ],
  [
    'conflicting Content-Length list',
    'POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 1, 2\r\n\r\nab',
    400,
  ],
  // RFC 9110 §8.6 allows merging identical lengths; we take the strict reading, as llhttp does.
  ['identical Content-Length list', 'POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 2, 2\r\n\r\nab', 400],
  [
    'identical Content-Length fields',
    'POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nab',
    400,
  ],
  [
    'TE chunked, chunked',
    'POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n',
    400,
  ],
  [
    'whitespace after the chunk size',
    'POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3 \r\nabc\r\n0\r\n\r\n',
    400,
  ],
  ['negative Content-Length', 'POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: -1\r\n\r\n', 400],
  ['hex Content-Length', 'POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 0x5\r\n\r\n', 400],
  ['empty Content-Length', 'POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length:\r\n\r\n', 400],
  [
    'CL and TE',
    'POST /echo HTTP/1.1\r\nHost: a\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n',
    400,
  ],
  [
    'TE not ending in chunked',
    'POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked, gzip\r\n\r\n',
    400,
  ],
  ['TE identity', 'POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: identity\r\n\r\n', 400],
  [
    'TE gzip, chunked',
    'POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n',
    501,
  ],
  ['TE in HTTP/1.0', 'POST /echo HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n', 400],
  ['chunk size not hex', 'POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n', 400],
  ['chunk size missing', 'POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n\r\n', 400],
  [
    'chunk size with junk',
    'POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3 x\r\nabc\r\n0\r\n\r\n',
    400,
  ],
  [
    'negative chunk size',
    'POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n-3\r\nabc\r\n0\r\n\r\n',
    400,
  ],
  [
    'chunk data too long',
    'POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcd\r\n0\r\n\r\n',
    400,
  ],
  [
    'chunk data bare LF',
    'POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\n0\r\n\r\n',
    400,
  ],
  [
    'control char in chunk ext',
    'POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n3;a=\x01\r\nabc\r\n0\r\n\r\n',
    400,
  ],
  [
    'bad trailer',
    'POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n0\r\nbad trailer\r\n\r\n',
    400,
  ],
  ['binary garbage', '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n', 400],
  ['TLS hello without CRLF', '\x16\x03\x01\x02\x00 ', 400],
];

describe('HTTP malformed input', () => {
  for (const [name, request, status] of CORPUS) {
    it(`${name} → ${status} and close, after answering the valid request before it`, () => {
      for (const byByte of [false, true]) {
        const bytes = ascii(ok + request + ok);
        const session = new HttpServerSession();
        const result = drive(session, byByte ? bytewise(bytes) : [bytes]);
        const responses = parseResponses(result.bytes);
        // The refusal is exposed for the model to count and log, with the status it was answered.
        expect(session.rejected?.status).toBe(status);
        expect(session.rejected?.code).toMatch(/^IOLAB_HTTP_/);
        expect(
          responses.map((r) => r.status),
          byByte ? 'one byte at a time' : 'one chunk',
        ).toEqual([200, status]);
        expect(responses[1]!.headers.connection).toBe('close');
        expect(result.closed).toBe(true);
      }
    });
  }

  it('names the error code and connection byte offset in the 400 body', () => {
    const result = drive(new HttpServerSession(), [ascii(`${ok}GET / HTTP/1.1\r\nHost : a\r\n\r\n`)]);
    const body = new TextDecoder().decode(parseResponses(result.bytes)[1]!.body);
    // ok is 35 bytes, "GET / HTTP/1.1\r\n" 16 more; the bad byte is the space at index 4 of the field line.
    expect(body).toBe(`IOLAB_HTTP_BAD_REQUEST: malformed header field name (at byte ${ok.length + 16 + 4})`);
  });

  it('accepts what RFC 9112 says a server should tolerate', () => {
    const tolerated = [
      '\r\n\r\nGET /plaintext HTTP/1.1\r\nHost: a\r\n\r\n', // empty lines before a request
      'GET /plaintext HTTP/1.1\r\nHost:a\r\n\r\n', // no OWS after the colon
      'GET /plaintext HTTP/1.1\r\nHost: a \t\r\n\r\n', // trailing OWS
      'GET /plaintext HTTP/1.1\r\nHOST: a\r\nX-Obs: caf\xe9\r\n\r\n', // case-insensitive names, obs-text value
      'GET /plaintext HTTP/1.9\r\nHost: a\r\n\r\n', // a higher 1.x minor is served as 1.1
      'POST /echo HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: Chunked\r\n\r\n2 ; a=b;c="d e"\r\nab\r\n0\r\n\r\n',
    ];
    for (const request of tolerated) {
      const session = new HttpServerSession();
      const result = drive(session, [ascii(request)]);
      expect(
        parseResponses(result.bytes).map((r) => r.status),
        JSON.stringify(request),
      ).toEqual([200]);
      expect(result.closed).toBe(false);
      expect(session.rejected).toBeUndefined();
    }
  });
});
