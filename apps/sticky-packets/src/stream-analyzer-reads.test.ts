import { describe, expect, it } from 'vitest';
import { buildMessage, type WireProtocol } from './message-format.js';
import { StreamAnalyzer } from './stream-analyzer.js';

function stream(protocol: WireProtocol, count: number, size: number): Buffer {
  return Buffer.concat(Array.from({ length: count }, (_, i) => buildMessage(protocol, i, size)));
}

describe('StreamAnalyzer', () => {
  for (const protocol of ['echo-lp', 'echo-line'] as const) {
    const native = protocol === 'echo-lp' ? 'length-field' : 'line';
    it(`${protocol}: codecs recover every message at every split point; naive sees one message per read`, () => {
      const bytes = stream(protocol, 3, 30);
      for (let a = 0; a <= bytes.length; a++) {
        for (let b = a; b <= bytes.length; b += 7) {
          const analyzer = new StreamAnalyzer(protocol, 30);
          const reads = [bytes.subarray(0, a), bytes.subarray(a, b), bytes.subarray(b)].filter(
            (r) => r.length > 0,
          );
          for (const r of reads) analyzer.push(r);
          const view = analyzer.end();
          expect(view.reads).toBe(reads.length);
          expect(view.naive.messages).toBe(reads.length);
          expect(view.codecs[native]).toEqual({ decoded: 3, intact: 3, corrupt: 0, error: undefined });
          expect(view.codecs['fixed-length']?.intact).toBe(3);
          const exact = reads.filter((r) => r.length === 30).length;
          expect(view.naive.intact).toBeLessThanOrEqual(exact);
        }
      }
    });

    it(`${protocol}: one read per message is what a naive reader needs`, () => {
      const analyzer = new StreamAnalyzer(protocol, 30);
      for (let i = 0; i < 5; i++) analyzer.push(buildMessage(protocol, i, 30));
      const view = analyzer.end();
      expect(view.naive).toEqual({ messages: 5, intact: 5 });
      expect(view.readSizes['≤64 B']).toBe(5);
    });
  }

  it('counts a damaged message as corrupt and a cut-off stream as truncated', () => {
    const bytes = stream('echo-lp', 4, 32);
    bytes[32 + 20] = (bytes[32 + 20] as number) ^ 0xff;
    const analyzer = new StreamAnalyzer('echo-lp', 32);
    analyzer.push(bytes.subarray(0, bytes.length - 5));
    const view = analyzer.end();
    expect(view.codecs['length-field']).toEqual({
      decoded: 3,
      intact: 2,
      corrupt: 1,
      error: 'IOLAB_FRAME_TRUNCATED',
    });
    expect(view.codecs.line).toBeUndefined();
  });
});
