import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EchoLineResponseDecoder, echoLineClientCodec } from './echo-line/client-codec.js';
import { EchoLpResponseDecoder, echoLpClientCodec, encodeEchoLpRequest } from './echo-lp/client-codec.js';
import { encodeEchoLpReply } from './echo-lp/server-codec.js';
import { concat, latin1, splitAt } from './test-session-driver.js';

describe('framed client codecs', () => {
  it('echo-lp requests are the documented bytes', () => {
    expect([...encodeEchoLpRequest({ kind: 'cpu', rounds: 1000 })]).toEqual([0, 0, 0, 5, 2, 0, 0, 3, 0xe8]);
    expect([...encodeEchoLpRequest({ kind: 'sleep', ms: 50 })]).toEqual([0, 0, 0, 5, 3, 0, 0, 0, 50]);
    expect([...encodeEchoLpRequest({ kind: 'echo', body: Uint8Array.of(0x68, 0x69) })]).toEqual([
      0, 0, 0, 3, 1, 0x68, 0x69,
    ]);
    expect(() => encodeEchoLpRequest({ kind: 'cpu', rounds: 2 ** 32 })).toThrow(RangeError);
  });

  it('echo-lp replies decode the same under any chunking', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.boolean(), fc.uint8Array({ maxLength: 40 })), { maxLength: 12 }),
        fc.array(fc.nat({ max: 600 }), { maxLength: 12 }),
        (replies, cuts) => {
          const bytes = concat(replies.flatMap(([ok, body]) => encodeEchoLpReply(ok ? 0 : 1, body)));
          const decoder = new EchoLpResponseDecoder();
          const got = splitAt(bytes, cuts).flatMap((c) => decoder.push(c).map((r) => [r.ok, latin1(r.body)]));
          expect(got).toEqual(replies.map(([ok, body]) => [ok, latin1(body)]));
        },
      ),
      { numRuns: 200 },
    );
  });

  it('echo-lp: a bad status byte or an oversize reply is a typed error with its offset', () => {
    const good = concat(encodeEchoLpReply(0, Uint8Array.of(1)));
    expect(() => new EchoLpResponseDecoder().push(concat([good, Uint8Array.of(0, 0, 0, 1, 7)]))).toThrow(
      expect.objectContaining({ code: 'IOLAB_FRAMED_BAD_RESPONSE', offset: good.length + 4 }),
    );
    expect(() =>
      new EchoLpResponseDecoder({ maxBodyBytes: 4 }).push(concat(encodeEchoLpReply(0, new Uint8Array(5)))),
    ).toThrow(expect.objectContaining({ code: 'IOLAB_FRAMED_BAD_RESPONSE' }));
  });

  it('echo-line replies decode the same under any chunking; junk is a typed error', () => {
    const bytes = new TextEncoder().encode('OK a\r\nOK\nERR nope\nOK  two spaces\n');
    for (let cut = 0; cut <= bytes.length; cut++) {
      const decoder = new EchoLineResponseDecoder();
      const got = splitAt(bytes, [cut]).flatMap((c) => decoder.push(c).map((r) => [r.ok, latin1(r.body)]));
      expect(got).toEqual([
        [true, 'a'],
        [true, ''],
        [false, 'nope'],
        [true, ' two spaces'],
      ]);
    }
    expect(() => new EchoLineResponseDecoder().push(new TextEncoder().encode('OK\nHTTP/1.1 400\n'))).toThrow(
      expect.objectContaining({ code: 'IOLAB_FRAMED_BAD_RESPONSE', offset: 3 }),
    );
  });

  it('the codec objects expose encode + a fresh decoder per connection', () => {
    for (const codec of [echoLpClientCodec, echoLineClientCodec]) {
      expect(codec.encodeRequest({ kind: 'sleep', ms: 1 }).length).toBeGreaterThan(0);
      expect(codec.createResponseDecoder()).not.toBe(codec.createResponseDecoder());
    }
  });
});
