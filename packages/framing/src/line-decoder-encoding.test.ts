import { describe, expect, it } from 'vitest';
import { FrameTooLongError, TruncatedFrameError } from './errors.js';
import { frames } from './frames-iterable.js';
import { LineDecoder } from './line-decoder.js';
import { cutAt, everyChunking } from './test-chunking.js';

function decodeStrings(decoder: LineDecoder<'utf8'>, chunks: Uint8Array[]): string[] {
  const out: string[] = [];
  for (const c of chunks) out.push(...decoder.push(c));
  out.push(...decoder.end());
  return out;
}

describe('LineDecoder encoding and emitTrailing', () => {
  it('yields strings; a multi-byte character cut between chunks is decoded whole, at every offset', () => {
    const bytes = Buffer.from('héllo wörld\r\n日本語\n€\n', 'utf8');
    for (const chunks of everyChunking(bytes)) {
      expect(decodeStrings(new LineDecoder({ encoding: 'utf8' }), chunks)).toEqual([
        'héllo wörld',
        '日本語',
        '€',
      ]);
    }
  });

  it('keeps the strict default: a truncated tail is an error, with or without an encoding', () => {
    const d = new LineDecoder({ encoding: 'utf8' });
    expect(d.push(Buffer.from('a\nb'))).toEqual(['a']);
    expect(() => d.end()).toThrow(TruncatedFrameError);
    const bytes = new LineDecoder();
    bytes.push(Buffer.from('x'));
    expect(() => bytes.end()).toThrow(TruncatedFrameError);
  });

  it('emitTrailing hands over the unterminated last line at end(), like split2, at every offset', () => {
    const bytes = Buffer.from('one\ntwo\nthree', 'utf8');
    for (const chunks of everyChunking(bytes)) {
      const d = new LineDecoder({ encoding: 'utf8', emitTrailing: true });
      expect(decodeStrings(d, chunks)).toEqual(['one', 'two', 'three']);
    }
    const raw = new LineDecoder({ emitTrailing: true });
    raw.push(Buffer.from('ab\ncd'));
    expect(raw.end().map((f) => Buffer.from(f).toString())).toEqual(['cd']);
    // Nothing buffered: nothing emitted, and the decoder is reusable.
    expect(raw.end()).toEqual([]);
    expect(raw.push(Buffer.from('x\n')).map((f) => Buffer.from(f).toString())).toEqual(['x']);
  });

  it('emitTrailing does not rescue a too-long last line', () => {
    const d = new LineDecoder({ maxFrameLength: 3, emitTrailing: true, failFast: true });
    expect(() => d.push(Buffer.from('ok\nlonger'))).toThrow(FrameTooLongError);
    expect(() => d.end()).toThrow(TruncatedFrameError);
  });

  it('frames completed before an error are strings on the error too', () => {
    const d = new LineDecoder({ encoding: 'latin1', maxFrameLength: 4 });
    try {
      d.push(Buffer.from('ab\ntoo long\ncd\n', 'latin1'));
      expect.unreachable('the long line must throw');
    } catch (err) {
      expect((err as FrameTooLongError<string>).frames).toEqual(['ab', 'cd']);
    }
  });

  it('rejects encodings where 0x0A is not always a line feed', () => {
    // @ts-expect-error utf16le is not a LineEncoding
    expect(() => new LineDecoder({ encoding: 'utf16le' })).toThrow(RangeError);
  });

  it('the async-iterable adapter yields the strings and the trailing line', async () => {
    async function* source() {
      yield* cutAt(Buffer.from('α\nβ'), [1, 3]);
    }
    const got: string[] = [];
    for await (const line of frames(source(), new LineDecoder({ encoding: 'utf8', emitTrailing: true })))
      got.push(line);
    expect(got).toEqual(['α', 'β']);
  });
});
