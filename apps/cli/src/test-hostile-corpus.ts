/**
 * Test-only: the hostile-input corpus for `serve-hostile-input.test.ts`, one list per protocol. Each case
 * is the bytes a client sends (then FIN) and what the server must answer:
 *
 * - HTTP: the status codes in order. Every case that ends in an error also ends in a close (the test
 *   checks both). `node` is what Node's llhttp (`serve node-http`) answers when it differs from us, with
 *   `why` saying which reading of RFC 9112 / RFC 9110 we follow and why we do not match Node.
 * - framed: the replies in order (`OK …` / `ERR`), then the close.
 *
 * Limits are the defaults of @iolab/protocols (limits.ts): 8 KiB request line, 16 KiB of header field
 * lines, 100 fields, 1 MiB body, 1 KiB chunk-size line.
 */

export interface HttpCase {
  readonly name: string;
  readonly bytes: string | Buffer;
  /** Our statuses, in order. */
  readonly statuses: readonly number[];
  /** Node's llhttp (`serve node-http`), where it differs: any of `statuses`; `why` we do not match it. */
  readonly node?: { readonly statuses: readonly (readonly number[])[]; readonly why: string };
  /** Bodies that must appear in the answer (the echo of each request), in order. */
  readonly echoes?: readonly string[];
  /** Half-close after sending even though an error is expected (the FIN is part of the case). */
  readonly fin?: true;
}

const MAX_REQUEST_LINE = 8 * 1024;
const MAX_HEADER_BYTES = 16 * 1024;
const MAX_FIELDS = 100;
const MAX_BODY = 1024 * 1024;
const MAX_CHUNK_LINE = 1024;

const post = (headers: string, body = ''): string =>
  `POST /echo HTTP/1.1\r\nHost: h\r\n${headers}\r\n${body}`;
const get = (path = '/plaintext', headers = ''): string =>
  `GET ${path} HTTP/1.1\r\nHost: h\r\n${headers}\r\n`;
const te = 'Transfer-Encoding: chunked\r\n';

/** A request line of exactly `length` bytes (CRLF excluded). */
function requestLineOf(length: number): string {
  const fixed = 'GET / HTTP/1.1'.length;
  return `GET /${'a'.repeat(length - fixed)} HTTP/1.1`;
}

/** Header field lines totalling exactly `budget` bytes with their CRLFs, Host included. */
function fieldsOf(budget: number): string {
  const host = 'Host: h\r\n';
  let left = budget - host.length;
  const lines: string[] = [host];
  while (left > 0) {
    const size = Math.min(left, 4000);
    // "X-Pad-NN: " + value + CRLF
    const name = `X-Pad-${lines.length}: `;
    lines.push(`${name}${'v'.repeat(size - name.length - 2)}\r\n`);
    left -= size;
  }
  return lines.join('');
}

export const HTTP_CORPUS: readonly HttpCase[] = [
  // ── the issue 9 crash: two bodies in a row on one connection ──────────────────────────────────────
  {
    name: 'Content-Length 0, then a 5-byte body',
    bytes: post('Content-Length: 0\r\n') + post('Content-Length: 5\r\n', 'hello'),
    statuses: [200, 200],
    echoes: ['', 'hello'],
  },
  {
    name: 'empty chunked body, then a 5-byte body',
    bytes: post(te, '0\r\n\r\n') + post('Content-Length: 5\r\n', 'hello'),
    statuses: [200, 200],
    echoes: ['', 'hello'],
  },
  {
    name: 'empty chunked body, then a chunked body',
    bytes: post(te, '0\r\n\r\n') + post(te, '5\r\nhello\r\n0\r\n\r\n'),
    statuses: [200, 200],
    echoes: ['', 'hello'],
  },
  {
    name: 'a body, an empty body, a chunked body',
    bytes:
      post('Content-Length: 3\r\n', 'abc') + post('Content-Length: 0\r\n') + post(te, '2\r\nde\r\n0\r\n\r\n'),
    statuses: [200, 200, 200],
    echoes: ['abc', '', 'de'],
  },

  {
    name: 'a body cut short by FIN',
    bytes: post('Content-Length: 10\r\n', 'abc'),
    fin: true,
    statuses: [],
    node: {
      statuses: [[400]],
      why: 'the peer can never finish that request; node:http answers 400, we close without a reply, as for any request the peer abandons (nothing is owed for a request never received in full)',
    },
  },

  // ── smuggling: Content-Length and Transfer-Encoding ───────────────────────────────────────────────
  { name: 'CL + TE', bytes: post(`Content-Length: 5\r\n${te}`, '0\r\n\r\n'), statuses: [400] },
  { name: 'TE + CL', bytes: post(`${te}Content-Length: 5\r\n`, '0\r\n\r\n'), statuses: [400] },
  {
    name: 'CL + TE: chunked, after a valid request',
    bytes: get() + post(`Content-Length: 4\r\n${te}`, '0\r\n\r\nGET /smuggled HTTP/1.1\r\nHost: h\r\n\r\n'),
    statuses: [200, 400],
    node: {
      statuses: [[400], [200, 400]],
      why: "node:http's default clientError handler writes its 400 and destroys the socket, dropping the answer to a valid request that arrived in the same read; we answer every request before the bad one, in order (RFC 9112 §9.3)",
    },
  },
  {
    name: 'two differing Content-Length fields',
    bytes: post('Content-Length: 1\r\nContent-Length: 5\r\n', 'hello'),
    statuses: [400],
  },
  {
    name: 'a differing Content-Length list',
    bytes: post('Content-Length: 5, 1\r\n', 'hello'),
    statuses: [400],
  },
  {
    name: 'two equal Content-Length fields',
    bytes: post('Content-Length: 5\r\nContent-Length: 5\r\n', 'hello'),
    statuses: [400],
  },
  { name: 'an equal Content-Length list', bytes: post('Content-Length: 5, 5\r\n', 'hello'), statuses: [400] },
  { name: 'Content-Length with a sign', bytes: post('Content-Length: +5\r\n', 'hello'), statuses: [400] },
  { name: 'Content-Length in hex', bytes: post('Content-Length: 0x5\r\n', 'hello'), statuses: [400] },
  {
    name: 'Content-Length with inner space',
    bytes: post('Content-Length: 5 0\r\n', 'hello'),
    statuses: [400],
  },
  { name: 'empty Content-Length', bytes: post('Content-Length:\r\n'), statuses: [400] },
  {
    name: 'Content-Length of 20 digits',
    bytes: post('Content-Length: 99999999999999999999\r\n', 'x'),
    statuses: [413],
    node: {
      statuses: [[400]],
      why: 'llhttp rejects a length that overflows 64 bits as malformed; it is well-formed digits (RFC 9110 §8.6), only too large, so we answer 413 like any length over our cap',
    },
  },
  {
    name: 'Transfer-Encoding: chunked, chunked',
    bytes: post('Transfer-Encoding: chunked, chunked\r\n', '0\r\n\r\n'),
    statuses: [400],
  },
  {
    name: 'Transfer-Encoding chunked twice as two fields',
    bytes: post('Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n', '0\r\n\r\n'),
    statuses: [400],
  },
  {
    name: 'Transfer-Encoding: chunked, gzip (chunked not last)',
    bytes: post('Transfer-Encoding: chunked, gzip\r\n', '0\r\n\r\n'),
    statuses: [400],
  },
  {
    name: 'Transfer-Encoding: gzip, chunked (a coding we do not decode)',
    bytes: post('Transfer-Encoding: gzip, chunked\r\n', '0\r\n\r\n'),
    statuses: [501],
    node: {
      statuses: [[200]],
      why: 'llhttp frames the body by the final chunked and leaves gzip to the application, which here would echo still-compressed bytes as if decoded; RFC 9112 §6.1 says a server SHOULD answer 501 to a transfer coding it does not understand',
    },
  },
  {
    name: 'Transfer-Encoding: identity',
    bytes: post('Transfer-Encoding: identity\r\n', 'x'),
    statuses: [400],
  },
  {
    name: 'Transfer-Encoding: xchunked',
    bytes: post('Transfer-Encoding: xchunked\r\n', '0\r\n\r\n'),
    statuses: [400],
  },
  {
    name: 'empty Transfer-Encoding',
    bytes: post('Transfer-Encoding:\r\n', '0\r\n\r\n'),
    statuses: [400],
    node: {
      statuses: [[400], [200, 400]],
      why: 'llhttp ignores an empty Transfer-Encoding, reads no body, and parses the chunk bytes as the next request (a desync, answered 400 only if that read lands apart); RFC 9112 §6.3: Transfer-Encoding present without a final chunked is 400',
    },
  },
  {
    name: 'Transfer-Encoding: chunked with tab OWS',
    bytes: post('Transfer-Encoding:\tchunked\t\r\n', '5\r\nhello\r\n0\r\n\r\n'),
    statuses: [200],
    echoes: ['hello'],
    node: {
      statuses: [[400]],
      why: 'llhttp refuses a tab around the Transfer-Encoding value; RFC 9110 §5.6.3 OWS is SP or HTAB, and we trim both as for any field',
    },
  },
  {
    name: 'space before the colon of Transfer-Encoding',
    bytes: post('Transfer-Encoding : chunked\r\n', '0\r\n\r\n'),
    statuses: [400],
  },
  {
    name: 'Transfer-Encoding in HTTP/1.0',
    bytes: `POST /echo HTTP/1.0\r\n${te}\r\n0\r\n\r\n`,
    statuses: [400],
    node: {
      statuses: [[200]],
      why: 'RFC 9112 §6.1: a server MUST treat an HTTP/1.0 message with Transfer-Encoding as having faulty framing; llhttp decodes the chunks anyway',
    },
  },

  // ── chunk-size abuse ──────────────────────────────────────────────────────────────────────────────
  {
    name: 'chunk size of 20 hex digits',
    bytes: post(te, 'ffffffffffffffffffff\r\nx\r\n0\r\n\r\n'),
    statuses: [413],
    node: {
      statuses: [[400]],
      why: 'llhttp rejects a chunk size that overflows 64 bits as malformed; it is valid hex (RFC 9112 §7.1), only too large, so we answer 413 as for any body over our cap',
    },
  },
  { name: 'chunk size 0x5', bytes: post(te, '0x5\r\nhello\r\n0\r\n\r\n'), statuses: [400] },
  { name: 'negative chunk size', bytes: post(te, '-5\r\nhello\r\n0\r\n\r\n'), statuses: [400] },
  { name: 'chunk size with a sign', bytes: post(te, '+5\r\nhello\r\n0\r\n\r\n'), statuses: [400] },
  {
    name: 'trailing space after the chunk size',
    bytes: post(te, '5 \r\nhello\r\n0\r\n\r\n'),
    statuses: [400],
  },
  {
    name: 'whitespace before a chunk extension (BWS)',
    bytes: post(te, '5 ;ext=1\r\nhello\r\n0\r\n\r\n'),
    statuses: [200],
    echoes: ['hello'],
    node: {
      statuses: [[400]],
      why: 'RFC 9112 §7.1.1 writes chunk-ext = *( BWS ";" BWS … ): whitespace before ";" is valid, and llhttp refuses it unless lenient; we keep the RFC grammar',
    },
  },
  { name: 'chunk data longer than its size', bytes: post(te, '3\r\nhello\r\n0\r\n\r\n'), statuses: [400] },
  { name: 'chunk data without its CRLF', bytes: post(te, '5\r\nhello0\r\n\r\n'), statuses: [400] },
  { name: 'chunk data ended by bare LF', bytes: post(te, '5\r\nhello\n0\r\n\r\n'), statuses: [400] },
  { name: 'chunk size line ended by bare LF', bytes: post(te, '5\nhello\r\n0\r\n\r\n'), statuses: [400] },
  { name: 'missing chunk size', bytes: post(te, '\r\nhello\r\n0\r\n\r\n'), statuses: [400] },
  { name: 'NUL in a chunk extension', bytes: post(te, '5;a=\0\r\nhello\r\n0\r\n\r\n'), statuses: [400] },
  { name: 'malformed trailer', bytes: post(te, '0\r\nnot a trailer\r\n\r\n'), statuses: [400] },

  // ── line folding, bare CR/LF, NUL ─────────────────────────────────────────────────────────────────
  { name: 'obs-fold', bytes: get('/plaintext', 'X-A: b\r\n c\r\n'), statuses: [400] },
  { name: 'obs-fold with a tab', bytes: get('/plaintext', 'X-A: b\r\n\tc\r\n'), statuses: [400] },
  { name: 'bare LF ending a header line', bytes: get('/plaintext', 'X-A: b\n'), statuses: [400] },
  {
    name: 'bare LF ending the request line',
    bytes: 'GET /plaintext HTTP/1.1\nHost: h\r\n\r\n',
    statuses: [400],
  },
  { name: 'bare CR in a header value', bytes: get('/plaintext', 'X-A: b\rc\r\n'), statuses: [400] },
  {
    name: 'bare CR in the request line',
    bytes: 'GET /plain\rtext HTTP/1.1\r\nHost: h\r\n\r\n',
    statuses: [400],
  },
  { name: 'NUL in a header value', bytes: get('/plaintext', 'X-A: b\0c\r\n'), statuses: [400] },
  { name: 'NUL in a header name', bytes: get('/plaintext', 'X-\0A: b\r\n'), statuses: [400] },
  {
    name: 'NUL in the request target',
    bytes: 'GET /plain\0text HTTP/1.1\r\nHost: h\r\n\r\n',
    statuses: [400],
  },
  { name: 'NUL in the method', bytes: 'G\0T /plaintext HTTP/1.1\r\nHost: h\r\n\r\n', statuses: [400] },
  { name: 'space before a header colon', bytes: get('/plaintext', 'X-A : b\r\n'), statuses: [400] },
  { name: 'missing Host in HTTP/1.1', bytes: 'GET /plaintext HTTP/1.1\r\n\r\n', statuses: [400] },
  {
    name: 'two Host fields',
    bytes: get('/plaintext', 'Host: i\r\n'),
    statuses: [400],
    node: {
      statuses: [[200]],
      why: 'RFC 9112 §3.2: a server MUST answer 400 to a request with more than one Host field line; node:http only checks that one is present',
    },
  },
  { name: 'lower-case HTTP version', bytes: 'GET /plaintext http/1.1\r\nHost: h\r\n\r\n', statuses: [400] },
  {
    name: 'TLS ClientHello bytes up to a CRLF',
    bytes: Buffer.concat([Buffer.from('16030100a5010000a10303', 'hex'), Buffer.from('\r\n')]),
    statuses: [400],
  },

  // ── limits: at the cap is served, one over is refused ─────────────────────────────────────────────
  {
    name: 'request line at the cap',
    bytes: `${requestLineOf(MAX_REQUEST_LINE)}\r\nHost: h\r\n\r\n`,
    statuses: [404],
  },
  {
    name: 'request line one over the cap',
    bytes: `${requestLineOf(MAX_REQUEST_LINE + 1)}\r\nHost: h\r\n\r\n`,
    statuses: [414],
    node: {
      statuses: [[404]],
      why: 'Node has no request-line cap of its own, only maxHeaderSize over the whole head; we cap the line apart, and RFC 9110 §15.5.15 gives 414 for a target longer than the server will parse',
    },
  },
  {
    name: 'header field lines at the cap',
    bytes: `GET /plaintext HTTP/1.1\r\n${fieldsOf(MAX_HEADER_BYTES)}\r\n`,
    statuses: [200],
  },
  {
    name: 'header field lines one over the cap',
    bytes: `GET /plaintext HTTP/1.1\r\n${fieldsOf(MAX_HEADER_BYTES + 1)}\r\n`,
    statuses: [431],
    node: {
      statuses: [[200]],
      why: 'llhttp counts header bytes without their CRLFs toward maxHeaderSize (set to our 16 KiB), so it refuses ~2 bytes per field later; we count each field line with its CRLF, as the bytes we buffer',
    },
  },
  {
    name: 'header fields at the count cap',
    bytes: get('/plaintext', 'X: y\r\n'.repeat(MAX_FIELDS - 1)),
    statuses: [200],
  },
  {
    name: 'header fields one over the count cap',
    bytes: get('/plaintext', 'X: y\r\n'.repeat(MAX_FIELDS)),
    statuses: [431],
    node: {
      statuses: [[200]],
      why: 'Node keeps the first maxHeadersCount (2000) fields and silently drops the rest; we refuse past our cap rather than serve a request with fields missing',
    },
  },
  {
    name: 'body at the cap',
    bytes: post(`Content-Length: ${MAX_BODY}\r\n`, 'b'.repeat(MAX_BODY)),
    statuses: [200],
  },
  {
    name: 'body one over the cap',
    bytes: post(`Content-Length: ${MAX_BODY + 1}\r\n`, 'b'.repeat(MAX_BODY + 1)),
    statuses: [413],
  },
  {
    name: 'chunked body at the cap',
    bytes: post(
      te,
      `${(MAX_BODY / 2).toString(16)}\r\n${'c'.repeat(MAX_BODY / 2)}\r\n`.repeat(2) + '0\r\n\r\n',
    ),
    statuses: [200],
  },
  {
    name: 'chunked body one over the cap',
    bytes: post(
      te,
      `${(MAX_BODY / 2).toString(16)}\r\n${'c'.repeat(MAX_BODY / 2)}\r\n`.repeat(2) + '1\r\nc\r\n0\r\n\r\n',
    ),
    statuses: [413],
  },
  {
    name: 'chunk-size line at the cap',
    bytes: post(te, `5;${'e'.repeat(MAX_CHUNK_LINE - 2)}\r\nhello\r\n0\r\n\r\n`),
    statuses: [200],
    echoes: ['hello'],
  },
  {
    name: 'chunk-size line one over the cap',
    bytes: post(te, `5;${'e'.repeat(MAX_CHUNK_LINE - 1)}\r\nhello\r\n0\r\n\r\n`),
    statuses: [400],
    node: {
      statuses: [[200]],
      why: 'Node does not cap chunk extensions (CVE-2024-22019 capped only the bytes read); we cap the line so a peer cannot make us scan it without end',
    },
  },
  {
    name: 'Expect: 100-continue with its body',
    bytes: post('Content-Length: 5\r\nExpect: 100-continue\r\n', 'hello'),
    // An interim 100 is sent only if the body has not started arriving yet; the test ignores 1xx.
    statuses: [200],
    echoes: ['hello'],
  },
];

/** A framed case: replies in order, each `OK <payload>` or `ERR` (any message), then the server closes. */
export interface FramedCase {
  readonly name: string;
  readonly bytes: Buffer;
  readonly replies: readonly string[];
  /** The server closes after the replies even though the client has not finished (a framing error). */
  readonly closes?: boolean;
}

const line = (text: string): Buffer => Buffer.from(text, 'latin1');

export const ECHO_LINE_CORPUS: readonly FramedCase[] = [
  { name: 'empty ECHO, then ECHO with text', bytes: line('ECHO\nECHO hello\n'), replies: ['OK', 'OK hello'] },
  { name: 'CRLF line ends', bytes: line('ECHO a\r\nECHO b\r\n'), replies: ['OK a', 'OK b'] },
  { name: 'NUL and bare CR inside the text', bytes: line('ECHO a\0b\rc\n'), replies: ['OK a\0b\rc'] },
  { name: 'unknown command keeps the connection', bytes: line('EHLO x\nECHO y\n'), replies: ['ERR', 'OK y'] },
  { name: 'lower-case command', bytes: line('echo x\n'), replies: ['ERR'] },
  { name: 'CPU with a negative count', bytes: line('CPU -1\nECHO y\n'), replies: ['ERR', 'OK y'] },
  { name: 'CPU with 20 digits', bytes: line('CPU 99999999999999999999\n'), replies: ['ERR'] },
  { name: 'SLEEP over its cap', bytes: line('SLEEP 10001\n'), replies: ['ERR'] },
  { name: 'SLEEP with junk', bytes: line('SLEEP 5x\n'), replies: ['ERR'] },
  { name: 'empty line', bytes: line('\nECHO y\n'), replies: ['ERR', 'OK y'] },
  {
    name: 'binary garbage line',
    bytes: Buffer.concat([Buffer.from('16030100a501', 'hex'), line('\n')]),
    replies: ['ERR'],
  },
  {
    name: 'line at the cap',
    bytes: line(`ECHO ${'x'.repeat(MAX_BODY)}\n`),
    replies: [`OK ${'x'.repeat(MAX_BODY)}`],
  },
  {
    name: 'line over the cap',
    bytes: line(`ECHO ${'x'.repeat(MAX_BODY + 16)}\nECHO after\n`),
    replies: ['ERR'],
    closes: true,
  },
  { name: 'a line without its newline, then FIN', bytes: line('ECHO half'), replies: [] },
];

/** `u32 BE length | op | payload`. */
function lpFrame(op: number, payload: Buffer | string = Buffer.alloc(0), length?: number): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'latin1') : payload;
  const head = Buffer.alloc(5);
  head.writeUInt32BE(length ?? 1 + body.length, 0);
  head[4] = op;
  return Buffer.concat([head, body]);
}
const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n, 0);
  return b;
};

export const ECHO_LP_CORPUS: readonly FramedCase[] = [
  {
    name: 'empty echo, then a 5-byte echo',
    bytes: Buffer.concat([lpFrame(1), lpFrame(1, 'hello')]),
    replies: ['OK', 'OK hello'],
  },
  { name: 'NUL, CR, LF in the payload', bytes: lpFrame(1, 'a\0\r\nb'), replies: ['OK a\0\r\nb'] },
  {
    name: 'unknown op keeps the connection',
    bytes: Buffer.concat([lpFrame(9, 'x'), lpFrame(1, 'y')]),
    replies: ['ERR', 'OK y'],
  },
  {
    name: 'cpu with a short payload',
    bytes: Buffer.concat([lpFrame(2, 'ab'), lpFrame(1, 'y')]),
    replies: ['ERR', 'OK y'],
  },
  { name: 'sleep over its cap', bytes: lpFrame(3, u32(10_001)), replies: ['ERR'] },
  { name: 'cpu over its cap', bytes: lpFrame(2, u32(1_000_001)), replies: ['ERR'] },
  {
    name: 'frame of length 0 (no op)',
    bytes: Buffer.concat([u32(0), lpFrame(1, 'y')]),
    replies: ['ERR', 'OK y'],
  },
  {
    name: 'frame at the cap',
    bytes: lpFrame(1, Buffer.alloc(MAX_BODY, 0x61)),
    replies: [`OK ${'a'.repeat(MAX_BODY)}`],
  },
  {
    name: 'frame one over the cap',
    bytes: Buffer.concat([lpFrame(1, Buffer.alloc(MAX_BODY + 1, 0x61)), lpFrame(1, 'after')]),
    replies: ['ERR'],
    closes: true,
  },
  {
    name: 'length 0xffffffff',
    bytes: Buffer.concat([u32(0xffffffff), Buffer.from('x')]),
    replies: ['ERR'],
    closes: true,
  },
  { name: 'a frame cut short, then FIN', bytes: lpFrame(1, 'hello').subarray(0, 7), replies: [] },
];
