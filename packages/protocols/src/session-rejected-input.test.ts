/**
 * `ServerSession.rejected`: set once when a session refuses the peer's input (and closes), with the stable
 * code and, for HTTP, the status it answered; never for a deadline or for an error that keeps the connection.
 */
import { describe, expect, it } from 'vitest';
import { createSession } from './create-session.js';
import { ascii, drive } from './test-session-driver.js';

const ok = 'GET /plaintext HTTP/1.1\r\nHost: a\r\n\r\n';

describe('HTTP session', () => {
  it('a grammar error: rejected with its code and status, and it stays the first refusal', () => {
    const session = createSession('http');
    drive(session, [ascii(`${ok}GET / HTTP/1.1\r\nHost : a\r\n\r\n`)]);
    expect(session.rejected).toEqual({
      code: 'IOLAB_HTTP_BAD_REQUEST',
      status: 400,
      message: `malformed header field name (at byte ${ok.length + 16 + 4})`,
    });
    const first = session.rejected;
    session.receive(ascii('\x01\x02\x03\r\n\r\n'));
    expect(session.rejected).toBe(first);
  });

  it('a limit: 431 with its code', () => {
    const session = createSession('http');
    drive(session, [ascii(`GET / HTTP/1.1\r\nX: ${'a'.repeat(20_000)}\r\n\r\n`)]);
    expect(session.rejected).toMatchObject({ code: 'IOLAB_HTTP_HEADERS_TOO_LARGE', status: 431 });
  });

  it('input past maxPausedInputBytes while paused: 503, IOLAB_PIPELINE_TOO_DEEP', () => {
    const session = createSession('http', { maxPipelineDepth: 1, maxPausedInputBytes: 64 });
    // Never completed: the session stays paused at depth 1 while the model keeps reading.
    const out = session.receive(ascii(ok.repeat(10)));
    expect(out.close).toBe(false);
    expect(out.work).toHaveLength(1);
    expect(session.rejected).toMatchObject({ code: 'IOLAB_PIPELINE_TOO_DEEP', status: 503 });
  });

  it('not a refusal: valid traffic, a 404, a peer FIN, a header timeout', () => {
    const served = createSession('http');
    drive(served, [ascii(`${ok}GET /nope HTTP/1.1\r\nHost: a\r\n\r\n`)], { endInput: true });
    expect(served.rejected).toBeUndefined();
    const slow = createSession('http');
    slow.receive(ascii('GET / HT'));
    expect(slow.timedOut().close).toBe(true);
    expect(slow.rejected).toBeUndefined();
  });
});

describe('framed sessions', () => {
  it('echo-lp: a frame over the cap → rejected with the framing code, no status', () => {
    const session = createSession('echo-lp');
    const out = session.receive(Uint8Array.of(0x7f, 0xff, 0xff, 0xff));
    expect(out.close).toBe(true);
    expect(session.rejected?.code).toBe('IOLAB_FRAME_TOO_LONG');
    expect(session.rejected?.status).toBeUndefined();
    expect(session.rejected?.message).toMatch(/^frame at byte 0 is 2147483651 bytes, over maxFrameLength/);
  });

  it('echo-line: a line over the cap → rejected', () => {
    const session = createSession('echo-line', { maxBodyBytes: 16 });
    session.receive(ascii(`ECHO ${'x'.repeat(100)}\n`));
    expect(session.rejected?.code).toBe('IOLAB_FRAME_TOO_LONG');
  });

  it('not a refusal: a well-framed bad request (error reply, connection kept), a frame timeout', () => {
    const bad = createSession('echo-line');
    const result = drive(bad, [ascii('NOPE\n')]);
    expect(result.closed).toBe(false);
    expect(bad.rejected).toBeUndefined();
    const slow = createSession('echo-lp');
    slow.receive(Uint8Array.of(0, 0));
    slow.timedOut();
    expect(slow.rejected).toBeUndefined();
  });
});
