/**
 * Watches one direction of a TCP stream read by read and answers: how big were the reads, what would a
 * reader that treats each read as one message have seen, and what does each `@iolab/framing` codec recover.
 */
import {
  FixedLengthDecoder,
  type FrameDecoder,
  FramingError,
  LengthFieldDecoder,
  LineDecoder,
} from '@iolab/framing';
import { isIntactMessage, type WireProtocol } from './message-format.js';

export type CodecName = 'length-field' | 'line' | 'fixed-length';
export const CODECS: readonly CodecName[] = ['length-field', 'line', 'fixed-length'];

/** Read-size buckets: powers of 4 up to Node's 64 KiB read buffer, plus what a bigger read would be. */
export const READ_SIZE_BUCKETS: readonly { readonly label: string; readonly max: number }[] = [
  { label: '≤16 B', max: 16 },
  { label: '≤64 B', max: 64 },
  { label: '≤256 B', max: 256 },
  { label: '≤1 KiB', max: 1024 },
  { label: '≤4 KiB', max: 4096 },
  { label: '≤16 KiB', max: 16 * 1024 },
  { label: '≤64 KiB', max: 64 * 1024 },
  { label: '>64 KiB', max: Number.POSITIVE_INFINITY },
];

export interface CodecResult {
  /** Frames the codec produced. */
  readonly decoded: number;
  /** Frames that passed the checksum. */
  readonly intact: number;
  /** Frames that failed it. */
  readonly corrupt: number;
  /** A framing error's code, if the codec gave up. */
  readonly error: string | undefined;
}

export interface StreamView {
  readonly reads: number;
  readonly bytes: number;
  readonly minRead: number;
  readonly maxRead: number;
  readonly meanRead: number;
  /** Reads per {@link READ_SIZE_BUCKETS} label. */
  readonly readSizes: Readonly<Record<string, number>>;
  /** A reader that treats every read as one message. */
  readonly naive: { readonly messages: number; readonly intact: number };
  /** `undefined` where a codec does not apply to the protocol (line on binary echo-lp, length-field on lines). */
  readonly codecs: Readonly<Record<CodecName, CodecResult | undefined>>;
}

interface CodecState {
  decoder: FrameDecoder;
  decoded: number;
  intact: number;
  corrupt: number;
  error: string | undefined;
}

export class StreamAnalyzer {
  readonly #protocol: WireProtocol;
  readonly #codecs = new Map<CodecName, CodecState>();
  readonly #buckets = new Array<number>(READ_SIZE_BUCKETS.length).fill(0);
  #reads = 0;
  #bytes = 0;
  #min = Number.POSITIVE_INFINITY;
  #max = 0;
  #naiveIntact = 0;

  /** `messageBytes`: the wire size of every message in this direction (the fixed-length codec's frame). */
  constructor(protocol: WireProtocol, messageBytes: number) {
    this.#protocol = protocol;
    const state = (decoder: FrameDecoder): CodecState => ({
      decoder,
      decoded: 0,
      intact: 0,
      corrupt: 0,
      error: undefined,
    });
    // Large enough for the biggest message of any scenario, small enough to bound a desynchronised stream.
    const maxFrameLength = Math.max(messageBytes * 2, 1024);
    if (protocol === 'echo-lp') {
      this.#codecs.set(
        'length-field',
        state(new LengthFieldDecoder({ lengthFieldLength: 4, maxFrameLength })),
      );
    } else {
      this.#codecs.set('line', state(new LineDecoder({ maxFrameLength })));
    }
    this.#codecs.set(
      'fixed-length',
      state(new FixedLengthDecoder({ frameLength: messageBytes, maxFrameLength })),
    );
  }

  /** One read's bytes, exactly as the socket delivered them. */
  push(chunk: Uint8Array): void {
    this.#reads++;
    this.#bytes += chunk.length;
    if (chunk.length < this.#min) this.#min = chunk.length;
    if (chunk.length > this.#max) this.#max = chunk.length;
    const bucket = READ_SIZE_BUCKETS.findIndex((b) => chunk.length <= b.max);
    this.#buckets[bucket] = (this.#buckets[bucket] ?? 0) + 1;
    if (isIntactMessage(this.#protocol, chunk)) this.#naiveIntact++;
    for (const [name, codec] of this.#codecs) {
      if (codec.error) continue;
      const stripped = name === 'line';
      let frames: Uint8Array[];
      try {
        frames = codec.decoder.push(chunk);
      } catch (error) {
        codec.error = error instanceof FramingError ? error.code : String(error);
        frames = (error as { frames?: Uint8Array[] }).frames ?? [];
      }
      for (const frame of frames) {
        codec.decoded++;
        if (isIntactMessage(this.#protocol, frame, stripped)) codec.intact++;
        else codec.corrupt++;
      }
    }
  }

  /** The stream ended: a codec still holding a partial frame records `IOLAB_FRAME_TRUNCATED`. */
  end(): StreamView {
    for (const codec of this.#codecs.values()) {
      if (codec.error) continue;
      try {
        codec.decoder.end();
      } catch (error) {
        codec.error = error instanceof FramingError ? error.code : String(error);
      }
    }
    const result = (name: CodecName): CodecResult | undefined => {
      const c = this.#codecs.get(name);
      return c && { decoded: c.decoded, intact: c.intact, corrupt: c.corrupt, error: c.error };
    };
    return {
      reads: this.#reads,
      bytes: this.#bytes,
      minRead: this.#reads === 0 ? 0 : this.#min,
      maxRead: this.#max,
      meanRead: this.#reads === 0 ? 0 : this.#bytes / this.#reads,
      readSizes: Object.fromEntries(READ_SIZE_BUCKETS.map((b, i) => [b.label, this.#buckets[i] ?? 0])),
      naive: { messages: this.#reads, intact: this.#naiveIntact },
      codecs: {
        'length-field': result('length-field'),
        line: result('line'),
        'fixed-length': result('fixed-length'),
      },
    };
  }
}
