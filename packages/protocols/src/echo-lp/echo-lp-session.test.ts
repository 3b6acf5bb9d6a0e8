import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createSession } from '../create-session.js';
import { cpuDigest, runOperationSync } from '../operations.js';
import type { Work } from '../session.js';
import { bytewise, concat, drive, latin1, noSleep, splitAt } from '../test-session-driver.js';
import { EchoLpResponseDecoder, encodeEchoLpRequest } from './client-codec.js';

const enc = new TextEncoder();
const dec = new TextDecoder();

/** Replies as {ok, text-or-hex}, decoded by our client codec. */
function replies(bytes: Uint8Array) {
  return new EchoLpResponseDecoder().push(bytes).map((r) => ({ ok: r.ok, body: latin1(r.body) }));
}

const STREAM = concat([
  encodeEchoLpRequest({ kind: 'echo', body: enc.encode('hello') }),
  encodeEchoLpRequest({ kind: 'cpu', rounds: 2 }),
  encodeEchoLpRequest({ kind: 'sleep', ms: 0 }),
  encodeEchoLpRequest({ kind: 'echo', body: new Uint8Array(0) }),
  Uint8Array.of(0, 0, 0, 1, 9), // unknown op 9: error reply, connection stays open
  Uint8Array.of(0, 0, 0, 3, 2, 0, 0), // cpu with a 2-byte payload: error reply
  encodeEchoLpRequest({ kind: 'echo', body: Uint8Array.from({ length: 300 }, (_, i) => i & 0xff) }),
]);

const expected = drive(createSession('echo-lp'), [STREAM]);

describe('echo-lp session', () => {
  it('answers every request in order with the documented payloads', () => {
    const r = replies(expected.bytes);
    expect(r.map((x) => x.ok)).toEqual([true, true, true, true, false, false, true]);
    expect(r[0]!.body).toBe('hello');
    expect(r[1]!.body).toBe(latin1(cpuDigest(2)));
    expect(r[1]!.body).toHaveLength(32);
    expect(r[2]!.body).toBe('');
    expect(r[3]!.body).toBe('');
    expect(r[4]!.body).toBe('IOLAB_FRAMED_BAD_REQUEST: unknown op 9');
    expect(r[5]!.body).toMatch(/^IOLAB_FRAMED_BAD_REQUEST: cpu rounds must be a 4-byte u32 BE payload/);
    expect(r[6]!.body).toHaveLength(300);
    expect(expected.closed).toBe(false);
  });

  it('writes exactly the documented reply bytes', () => {
    const hello = drive(createSession('echo-lp'), [Uint8Array.of(0, 0, 0, 3, 1, 0x68, 0x69)]);
    expect([...hello.bytes]).toEqual([0, 0, 0, 3, 0, 0x68, 0x69]);
    const sleep = drive(createSession('echo-lp'), [Uint8Array.of(0, 0, 0, 5, 3, 0, 0, 0, 0)]);
    expect([...sleep.bytes]).toEqual([0, 0, 0, 1, 0]);
  });

  it('gives identical bytes at every split point and one byte at a time', () => {
    for (let cut = 1; cut < STREAM.length; cut++) {
      expect(latin1(drive(createSession('echo-lp'), splitAt(STREAM, [cut])).bytes), `cut ${cut}`).toBe(
        latin1(expected.bytes),
      );
    }
    expect(latin1(drive(createSession('echo-lp'), bytewise(STREAM)).bytes)).toBe(latin1(expected.bytes));
  });

  it('gives identical bytes under random chunking and reverse completion', () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: STREAM.length }), { maxLength: 30 }), (cuts) => {
        const got = drive(createSession('echo-lp'), splitAt(STREAM, cuts), { order: 'reverse' });
        expect(latin1(got.bytes)).toBe(latin1(expected.bytes));
      }),
      { numRuns: 200 },
    );
  });

  it('gives identical bytes when the model reuses one read buffer for every read', () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: STREAM.length }), { maxLength: 30 }), (cuts) => {
        const got = drive(createSession('echo-lp', { maxPipelineDepth: 2 }), splitAt(STREAM, cuts), {
          reuseReadBuffer: true,
          order: 'reverse',
        });
        expect(latin1(got.bytes)).toBe(latin1(expected.bytes));
      }),
      { numRuns: 150 },
    );
  });

  it('out-of-order completion still replies in request order', () => {
    const session = createSession('echo-lp');
    const out = session.receive(
      concat([
        encodeEchoLpRequest({ kind: 'sleep', ms: 50 }),
        encodeEchoLpRequest({ kind: 'echo', body: enc.encode('second') }),
      ]),
    );
    const [slow, fast] = out.work as [Work, Work];
    expect(session.complete(fast.id, runOperationSync(fast.op, noSleep)).send).toHaveLength(0);
    const done = session.complete(slow.id, runOperationSync(slow.op, noSleep));
    expect(replies(concat(done.send)).map((r) => r.body)).toEqual(['', 'second']);
  });

  it('an oversize frame: replies to the requests before it, then an error, then close', () => {
    const session = createSession('echo-lp', { maxBodyBytes: 16 });
    const bytes = concat([
      encodeEchoLpRequest({ kind: 'echo', body: enc.encode('ok') }),
      encodeEchoLpRequest({ kind: 'echo', body: new Uint8Array(17) }),
      encodeEchoLpRequest({ kind: 'echo', body: enc.encode('never') }),
    ]);
    for (const chunks of [[bytes], bytewise(bytes)]) {
      const result = drive(createSession('echo-lp', { maxBodyBytes: 16 }), chunks);
      const r = replies(result.bytes);
      expect(r.map((x) => x.ok)).toEqual([true, false]);
      expect(r[0]!.body).toBe('ok');
      expect(r[1]!.body).toMatch(/^IOLAB_FRAME_TOO_LONG: /);
      expect(result.closed).toBe(true);
    }
    // At the cap exactly is fine.
    const at = drive(session, [encodeEchoLpRequest({ kind: 'echo', body: new Uint8Array(16) })]);
    expect(replies(at.bytes)[0]!.ok).toBe(true);
  });

  it('a 4 GiB length field allocates nothing and closes', () => {
    const result = drive(createSession('echo-lp'), [Uint8Array.of(0xff, 0xff, 0xff, 0xff, 1, 2, 3)]);
    expect(replies(result.bytes)[0]!.ok).toBe(false);
    expect(result.closed).toBe(true);
  });

  it('cpu / sleep over their caps get an error reply and the connection stays open', () => {
    const result = drive(createSession('echo-lp', { maxCpuRounds: 10, maxSleepMs: 10 }), [
      concat([
        encodeEchoLpRequest({ kind: 'cpu', rounds: 11 }),
        encodeEchoLpRequest({ kind: 'sleep', ms: 11 }),
        encodeEchoLpRequest({ kind: 'cpu', rounds: 10 }),
      ]),
    ]);
    const r = replies(result.bytes);
    expect(r.map((x) => x.ok)).toEqual([false, false, true]);
    expect(r[0]!.body).toMatch(/^IOLAB_OPERATION_OUT_OF_RANGE: /);
    expect(result.closed).toBe(false);
  });

  it('random bytes never throw: replies decode, and only an error may close', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 512 }),
        fc.array(fc.nat({ max: 512 }), { maxLength: 6 }),
        (b, cuts) => {
          const result = drive(createSession('echo-lp', { maxBodyBytes: 64 }), splitAt(b, cuts));
          const r = replies(result.bytes);
          if (result.closed) expect(r.at(-1)!.ok).toBe(false);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('does not alias the caller’s chunk', () => {
    const session = createSession('echo-lp');
    const chunk = encodeEchoLpRequest({ kind: 'echo', body: enc.encode('keep') });
    const out = session.receive(chunk);
    chunk.fill(0);
    const w = out.work[0]!;
    expect(
      dec.decode(
        new EchoLpResponseDecoder().push(
          concat(session.complete(w.id, runOperationSync(w.op, noSleep)).send),
        )[0]!.body,
      ),
    ).toBe('keep');
  });

  it('peerEnded answers decoded requests and then closes', () => {
    const session = createSession('echo-lp', { maxPipelineDepth: 1 });
    const out = session.receive(
      concat([
        encodeEchoLpRequest({ kind: 'echo', body: enc.encode('a') }),
        encodeEchoLpRequest({ kind: 'echo', body: enc.encode('b') }),
        Uint8Array.of(0, 0), // half a length field
      ]),
    );
    expect(out.work).toHaveLength(1); // paused at depth 1
    expect(session.peerEnded().close).toBe(false);
    const first = session.complete(out.work[0]!.id, runOperationSync(out.work[0]!.op, noSleep));
    expect(first.close).toBe(false);
    const second = session.complete(first.work[0]!.id, runOperationSync(first.work[0]!.op, noSleep));
    expect(second.close).toBe(true);
    expect(replies(concat([...first.send, ...second.send])).map((r) => r.body)).toEqual(['a', 'b']);
  });
});
