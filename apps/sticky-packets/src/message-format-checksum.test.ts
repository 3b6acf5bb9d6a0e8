import { describe, expect, it } from 'vitest';
import {
  buildMessage,
  echoedSize,
  isIntactMessage,
  MIN_MESSAGE_BYTES,
  type WireProtocol,
} from './message-format.js';

const PROTOCOLS: WireProtocol[] = ['echo-lp', 'echo-line'];

describe('message format', () => {
  for (const protocol of PROTOCOLS) {
    it(`${protocol}: a message is exactly the requested size and intact`, () => {
      for (const size of [MIN_MESSAGE_BYTES[protocol], 32, 256, 70_000]) {
        const msg = buildMessage(protocol, 12345, size);
        expect(msg.length).toBe(size);
        expect(isIntactMessage(protocol, msg)).toBe(true);
      }
    });

    it(`${protocol}: fragments, two messages together and any flipped byte are not intact`, () => {
      const a = buildMessage(protocol, 1, 40);
      const b = buildMessage(protocol, 2, 40);
      for (let cut = 1; cut < a.length; cut++) {
        expect(isIntactMessage(protocol, a.subarray(0, cut))).toBe(false);
        expect(isIntactMessage(protocol, a.subarray(cut))).toBe(false);
      }
      expect(isIntactMessage(protocol, Buffer.concat([a, b]))).toBe(false);
      for (let i = 0; i < a.length; i++) {
        const damaged = Buffer.from(a);
        // 0x80: a flip that cannot turn op 1 into the equally valid status 0.
        damaged[i] = (damaged[i] as number) ^ 0x80;
        expect(isIntactMessage(protocol, damaged)).toBe(false);
      }
    });
  }

  it('echo-line responses (OK instead of ECHO) are intact too, and 2 bytes shorter', () => {
    const request = buildMessage('echo-line', 7, 50);
    const response = Buffer.concat([Buffer.from('OK '), request.subarray(5)]);
    expect(isIntactMessage('echo-line', response.subarray(0, -1))).toBe(false);
    expect(isIntactMessage('echo-line', response.subarray(0, -1), true)).toBe(true);
    expect(response.length).toBe(echoedSize('echo-line', 50, false));
    expect(isIntactMessage('echo-line', response)).toBe(true);
    expect(echoedSize('echo-line', 50, true)).toBe(50);
  });

  it('rejects a size below the protocol minimum', () => {
    expect(() => buildMessage('echo-lp', 0, 12)).toThrow(RangeError);
  });
});
