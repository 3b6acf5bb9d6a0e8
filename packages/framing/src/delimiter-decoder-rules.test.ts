import { afterEach, describe, expect, it } from 'vitest';
import { DelimiterDecoder } from './delimiter-decoder.js';
import { FrameTooLongError, TruncatedFrameError } from './errors.js';
import { LineDecoder } from './line-decoder.js';
import { decodeAll, everyChunking, isolate, text } from './test-chunking.js';

const strings = (frames: readonly Uint8Array[]) => frames.map((f) => Buffer.from(f).toString('latin1'));

function underEveryChunking(make: () => DelimiterDecoder | LineDecoder, input: string): string[] {
  let first: string[] | undefined;
  for (const chunks of everyChunking(text(input))) {
    const got = strings(decodeAll(make(), isolate(chunks)));
    if (first === undefined) first = got;
    expect(got).toEqual(first);
  }
  return first!;
}

describe('DelimiterDecoder', () => {
  it('cuts at a single delimiter, stripping it by default', () => {
    expect(underEveryChunking(() => new DelimiterDecoder({ delimiters: '\0' }), 'ABC\0DE\0\0')).toEqual([
      'ABC',
      'DE',
      '',
    ]);
  });

  it('keeps the delimiter with stripDelimiter false', () => {
    const make = () => new DelimiterDecoder({ delimiters: ['||'], stripDelimiter: false });
    expect(underEveryChunking(make, 'a||bb||||')).toEqual(['a||', 'bb||', '||']);
  });

  it('the shortest frame wins among several delimiters', () => {
    const make = () => new DelimiterDecoder({ delimiters: ['\n', '\r\n'] });
    expect(underEveryChunking(make, 'a\r\nb\nc\r\n')).toEqual(['a', 'b', 'c']);
    const words = () => new DelimiterDecoder({ delimiters: ['END', 'STOP', '!'] });
    expect(underEveryChunking(words, 'xSTOPyEN!zEND')).toEqual(['x', 'yEN', 'z']);
  });

  it('on a tie the delimiter listed first wins, and it is awaited when it might still match', () => {
    const longFirst = () => new DelimiterDecoder({ delimiters: ['xyz', 'x'] });
    expect(underEveryChunking(longFirst, 'AxyzBxyQx1xyz')).toEqual(['A', 'B', 'yQ', '1']);
    // A trailing "x" could still become "xyz": the frame waits for the next byte, so it is unfinished.
    const decoder = longFirst();
    expect(strings(decoder.push(text('1x')))).toEqual([]);
    expect(strings(decoder.push(text('!')))).toEqual(['1']);
    const shortFirst = () => new DelimiterDecoder({ delimiters: ['x', 'xyz'] });
    expect(underEveryChunking(shortFirst, 'Axyzx')).toEqual(['A', 'yz']);
  });

  it('handles delimiters that overlap themselves (aab in aaab)', () => {
    const make = () => new DelimiterDecoder({ delimiters: 'aab', stripDelimiter: false });
    expect(underEveryChunking(make, 'aaabaabcaab')).toEqual(['aaab', 'aab', 'caab']);
  });

  it('a too-long frame raises once and is skipped to its delimiter; the next frames arrive', () => {
    for (const failFast of [true, false]) {
      for (const chunks of everyChunking(text('ok;0123456789;fine;'))) {
        const decoder = new DelimiterDecoder({ delimiters: ';', maxFrameLength: 5, failFast });
        const frames: Uint8Array[] = [];
        const errors: FrameTooLongError[] = [];
        for (const chunk of isolate(chunks)) {
          try {
            frames.push(...decoder.push(chunk).map((f) => Uint8Array.from(f)));
          } catch (error) {
            if (!(error instanceof FrameTooLongError)) throw error;
            errors.push(error);
            frames.push(...error.frames.map((f) => Uint8Array.from(f)));
          }
          expect(decoder.bufferedBytes).toBeLessThanOrEqual(5);
        }
        decoder.end();
        expect(strings(frames)).toEqual(['ok', 'fine']);
        expect(errors.map((e) => [e.code, e.offset])).toEqual([['IOLAB_FRAME_TOO_LONG', 3]]);
        if (!failFast) expect(errors[0]!.frameLength).toBe(10);
        else expect(errors[0]!.frameLength).toBeGreaterThan(5);
      }
    }
  });

  it('end() inside a frame throws TruncatedFrameError with its offset', () => {
    const decoder = new DelimiterDecoder({ delimiters: '\n' });
    decoder.push(text('a\nbc'));
    let error: TruncatedFrameError | undefined;
    try {
      decoder.end();
    } catch (e) {
      error = e as TruncatedFrameError;
    }
    expect(error).toBeInstanceOf(TruncatedFrameError);
    expect(error!.offset).toBe(2);
    expect(error!.receivedBytes).toBe(2);
  });
});

describe('LineDecoder', () => {
  it('cuts at \\n and \\r\\n, keeps a lone \\r as data', () => {
    expect(underEveryChunking(() => new LineDecoder(), 'a\r\nb\nc\rd\n\n\r\n')).toEqual([
      'a',
      'b',
      'c\rd',
      '',
      '',
    ]);
  });

  it('keeps the line end with stripDelimiter false', () => {
    const make = () => new LineDecoder({ stripDelimiter: false });
    expect(underEveryChunking(make, 'a\r\nb\n')).toEqual(['a\r\n', 'b\n']);
  });

  it('maxFrameLength does not count the line end, whichever chunk the \\r lands in', () => {
    expect(underEveryChunking(() => new LineDecoder({ maxFrameLength: 3 }), 'abc\r\nxyz\n')).toEqual([
      'abc',
      'xyz',
    ]);
  });

  it('a too-long line raises and is skipped; later lines arrive', () => {
    for (const failFast of [true, false]) {
      for (const chunks of everyChunking(text('hi\nthis is long\r\nok\n'))) {
        const decoder = new LineDecoder({ maxFrameLength: 4, failFast });
        const frames: string[] = [];
        const errors: FrameTooLongError[] = [];
        for (const chunk of isolate(chunks)) {
          try {
            frames.push(...strings(decoder.push(chunk)));
          } catch (error) {
            if (!(error instanceof FrameTooLongError)) throw error;
            errors.push(error);
            frames.push(...strings(error.frames));
          }
          expect(decoder.bufferedBytes).toBeLessThanOrEqual(5);
        }
        decoder.end();
        expect(frames).toEqual(['hi', 'ok']);
        expect(errors).toHaveLength(1);
        expect(errors[0]!.offset).toBe(3);
        if (!failFast) expect(errors[0]!.frameLength).toBe(12);
      }
    }
  });
});

describe('linear scanning: a 16 MiB line in 16 KiB chunks is searched once', () => {
  const realIndexOf = Buffer.prototype.indexOf;
  let searched = 0;
  afterEach(() => {
    Buffer.prototype.indexOf = realIndexOf;
  });

  // Counts the bytes each Buffer.indexOf call may look at (from its start offset to the end).
  function countSearchedBytes(): void {
    searched = 0;
    Buffer.prototype.indexOf = function (
      this: Buffer,
      value: string | number | Uint8Array,
      byteOffset?: number,
      encoding?: BufferEncoding,
    ) {
      searched += this.length - (byteOffset ?? 0);
      return realIndexOf.call(this, value, byteOffset, encoding);
    } as typeof realIndexOf;
  }

  const total = 16 * 1024 * 1024;
  const chunkSize = 16 * 1024;
  const chunk = Buffer.alloc(chunkSize, 0x61);
  const decoders = {
    LineDecoder: () => new LineDecoder({ maxFrameLength: 2 * total }),
    DelimiterDecoder: () => new DelimiterDecoder({ delimiters: ['\r\n', '\n'], maxFrameLength: 2 * total }),
  };
  for (const [name, make] of Object.entries(decoders)) {
    it(`${name}`, () => {
      const decoder = make();
      countSearchedBytes();
      for (let sent = 0; sent < total; sent += chunkSize) expect(decoder.push(chunk)).toEqual([]);
      const [line] = decoder.push(text('\n'));
      Buffer.prototype.indexOf = realIndexOf;
      expect(line!.length).toBe(total);
      // Each delimiter searches each byte at most once (plus a few bytes at chunk boundaries).
      expect(searched).toBeLessThanOrEqual(2 * (total + (2 * total) / chunkSize) + 16);
      decoder.end();
    });
  }
});
