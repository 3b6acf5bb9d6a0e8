// The framed sessions on a real loopback socket: a client writes requests in random small pieces with
// Nagle on, and decodes every reply with the client codecs.

import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { echoLineClientCodec } from './echo-line/client-codec.js';
import { echoLpClientCodec } from './echo-lp/client-codec.js';
import type { FramedClientCodec, FramedOperation, FramedResponse } from './framed-client.js';
import type { ProtocolName } from './session.js';
import { concat, latin1 } from './test-session-driver.js';
import { startTestServer, type TestServer } from './test-tcp-server.js';

let server: TestServer | undefined;
afterEach(async () => {
  await server?.close();
  server = undefined;
});

/** A small deterministic PRNG so a failure reproduces. */
function prng(seed: number): () => number {
  let x = seed;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

async function roundTrip(protocol: ProtocolName, codec: FramedClientCodec, ops: FramedOperation[]) {
  server = await startTestServer(protocol);
  const port = server.port;
  const bytes = concat(ops.map((op) => codec.encodeRequest(op)));
  const decoder = codec.createResponseDecoder();
  const replies: FramedResponse[] = [];
  await new Promise<void>((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.on('error', reject);
    socket.on('data', (chunk) => {
      for (const r of decoder.push(chunk)) replies.push({ ok: r.ok, body: r.body.slice() });
      if (replies.length === ops.length) socket.end();
    });
    socket.on('close', () => resolve());
    socket.on('connect', async () => {
      const rand = prng(42);
      for (let at = 0; at < bytes.length; ) {
        const n = 1 + Math.floor(rand() * 64);
        socket.write(bytes.subarray(at, at + n));
        at += n;
        if (rand() < 0.2) await new Promise((r) => setImmediate(r));
      }
    });
  });
  return replies;
}

function ops(): FramedOperation[] {
  const enc = new TextEncoder();
  return Array.from({ length: 300 }, (_, i): FramedOperation => {
    if (i % 50 === 7) return { kind: 'sleep', ms: 5 };
    if (i % 50 === 8) return { kind: 'cpu', rounds: 3 };
    return { kind: 'echo', body: enc.encode(`message ${i} ${'x'.repeat(i % 90)}`) };
  });
}

describe('framed sessions on a real socket', () => {
  for (const [protocol, codec] of [
    ['echo-lp', echoLpClientCodec],
    ['echo-line', echoLineClientCodec],
  ] as const) {
    it(`${protocol}: 300 requests in random small writes come back in order`, async () => {
      const sent = ops();
      const replies = await roundTrip(protocol, codec, sent);
      expect(replies).toHaveLength(sent.length);
      replies.forEach((r, i) => {
        const op = sent[i]!;
        expect(r.ok).toBe(true);
        if (op.kind === 'echo') expect(latin1(r.body)).toBe(latin1(op.body));
        if (op.kind === 'sleep') expect(r.body).toHaveLength(0);
        if (op.kind === 'cpu') expect(r.body).toHaveLength(protocol === 'echo-lp' ? 32 : 64);
      });
    });
  }
});
