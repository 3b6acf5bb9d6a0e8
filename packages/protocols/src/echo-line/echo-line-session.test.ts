import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createSession } from '../create-session.js';
import { cpuDigest, runOperationSync } from '../operations.js';
import type { Work } from '../session.js';
import { ascii, bytewise, concat, drive, latin1, noSleep, splitAt } from '../test-session-driver.js';
import { EchoLineResponseDecoder, encodeEchoLineRequest } from './client-codec.js';

const STREAM = ascii(
  [
    'ECHO hello world\n',
    'CPU 2\r\n',
    'SLEEP 0\n',
    'ECHO\n',
    'ECHO \xff\x00\x7f bytes\n',
    'NOPE 1\n',
    'CPU x\n',
    '\n',
    'ECHO last\r\n',
  ].join(''),
);

const expected = drive(createSession('echo-line'), [STREAM]);

describe('echo-line session', () => {
  it('answers every command in order, bytes exactly as documented', () => {
    const hex = Buffer.from(cpuDigest(2)).toString('hex');
    expect(latin1(expected.bytes)).toBe(
      [
        'OK hello world\n',
        `OK ${hex}\n`,
        'OK\n',
        'OK\n',
        'OK \xff\x00\x7f bytes\n',
        'ERR IOLAB_FRAMED_BAD_REQUEST: unknown command: expected ECHO, CPU or SLEEP\n',
        'ERR IOLAB_OPERATION_OUT_OF_RANGE: CPU rounds must be an integer from 0 to 1000000\n',
        'ERR IOLAB_FRAMED_BAD_REQUEST: unknown command: expected ECHO, CPU or SLEEP\n',
        'OK last\n',
      ].join(''),
    );
    expect(expected.closed).toBe(false);
  });

  it('gives identical bytes at every split point, one byte at a time, and under random chunking', () => {
    for (let cut = 1; cut < STREAM.length; cut++) {
      expect(latin1(drive(createSession('echo-line'), splitAt(STREAM, [cut])).bytes), `cut ${cut}`).toBe(
        latin1(expected.bytes),
      );
    }
    expect(latin1(drive(createSession('echo-line'), bytewise(STREAM)).bytes)).toBe(latin1(expected.bytes));
    fc.assert(
      fc.property(fc.array(fc.nat({ max: STREAM.length }), { maxLength: 20 }), (cuts) => {
        const got = drive(createSession('echo-line'), splitAt(STREAM, cuts), { order: 'reverse' });
        expect(latin1(got.bytes)).toBe(latin1(expected.bytes));
      }),
      { numRuns: 200 },
    );
  });

  it('gives identical bytes when the model reuses one read buffer for every read', () => {
    fc.assert(
      fc.property(fc.array(fc.nat({ max: STREAM.length }), { maxLength: 30 }), (cuts) => {
        const got = drive(createSession('echo-line', { maxPipelineDepth: 2 }), splitAt(STREAM, cuts), {
          reuseReadBuffer: true,
          order: 'reverse',
        });
        expect(latin1(got.bytes)).toBe(latin1(expected.bytes));
      }),
      { numRuns: 150 },
    );
  });

  it('out-of-order completion still replies in request order', () => {
    const session = createSession('echo-line');
    const out = session.receive(ascii('SLEEP 5\nECHO b\n'));
    const [slow, fast] = out.work as [Work, Work];
    expect(session.complete(fast.id, runOperationSync(fast.op, noSleep)).send).toHaveLength(0);
    expect(latin1(concat(session.complete(slow.id, runOperationSync(slow.op, noSleep)).send))).toBe(
      'OK\nOK b\n',
    );
  });

  it('a line over the cap: replies to the lines before it, then ERR, then close', () => {
    const bytes = ascii(`ECHO a\nECHO ${'x'.repeat(100)}\nECHO never\n`);
    for (const chunks of [[bytes], bytewise(bytes)]) {
      const result = drive(createSession('echo-line', { maxBodyBytes: 32 }), chunks);
      expect(latin1(result.bytes)).toMatch(/^OK a\nERR IOLAB_FRAME_TOO_LONG: [^\n]*\n$/);
      expect(result.closed).toBe(true);
    }
  });

  it('a line that never ends is refused once over the cap', () => {
    const session = createSession('echo-line', { maxBodyBytes: 32 });
    const out = session.receive(ascii(`ECHO ${'y'.repeat(200)}`));
    expect(out.close).toBe(true);
    expect(latin1(concat(out.send))).toMatch(/^ERR IOLAB_FRAME_TOO_LONG/);
  });

  it('many immediate error replies never stall at the pipeline cap', () => {
    const result = drive(createSession('echo-line', { maxPipelineDepth: 2 }), [ascii('BAD\n'.repeat(10))]);
    expect(
      latin1(result.bytes)
        .split('\n')
        .filter((l) => l.startsWith('ERR')),
    ).toHaveLength(10);
  });

  it('random bytes never throw, and replies are always OK/ERR lines', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 400 }),
        fc.array(fc.nat({ max: 400 }), { maxLength: 6 }),
        (b, cuts) => {
          const result = drive(
            createSession('echo-line', { maxBodyBytes: 64, maxCpuRounds: 50 }),
            splitAt(b, cuts),
          );
          const replies = new EchoLineResponseDecoder().push(result.bytes);
          if (result.closed) expect(replies.at(-1)!.ok).toBe(false);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('client codec round trip: what encodeEchoLineRequest writes, the session answers and the decoder reads', () => {
    const texts = ['a', '', 'with spaces  ', '\xff\x01'];
    const bytes = concat([
      ...texts.map((t) => encodeEchoLineRequest({ kind: 'echo', body: ascii(t) })),
      encodeEchoLineRequest({ kind: 'cpu', rounds: 3 }),
      encodeEchoLineRequest({ kind: 'sleep', ms: 0 }),
    ]);
    const replies = new EchoLineResponseDecoder().push(drive(createSession('echo-line'), [bytes]).bytes);
    expect(replies.map((r) => latin1(r.body))).toEqual([
      ...texts,
      Buffer.from(cpuDigest(3)).toString('hex'),
      '',
    ]);
    expect(() => encodeEchoLineRequest({ kind: 'echo', body: ascii('a\nb') })).toThrow(RangeError);
    expect(() => encodeEchoLineRequest({ kind: 'echo', body: ascii('a\r') })).toThrow(RangeError);
  });
});
