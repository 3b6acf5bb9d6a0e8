import { once } from 'node:events';
import net from 'node:net';
import { pipeline } from 'node:stream/promises';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeStream } from './decode-stream.js';
import { DelimiterEncoder } from './delimiter-encoder.js';
import { encodeStream } from './encode-stream.js';
import { CorruptFrameError } from './errors.js';
import { frames } from './frames-iterable.js';
import { LengthFieldDecoder } from './length-field-decoder.js';
import { LengthFieldEncoder } from './length-field-encoder.js';
import { LineDecoder } from './line-decoder.js';
import { hex } from './test-chunking.js';

const servers: net.Server[] = [];
const sockets: net.Socket[] = [];

afterEach(async () => {
  for (const socket of sockets.splice(0)) socket.destroy();
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))));
});

async function listen(onConnection: (socket: net.Socket) => void): Promise<number> {
  const server = net.createServer((socket) => {
    sockets.push(socket);
    onConnection(socket);
  });
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return (server.address() as net.AddressInfo).port;
}

async function connect(port: number): Promise<net.Socket> {
  const socket = net.connect(port, '127.0.0.1');
  sockets.push(socket);
  await once(socket, 'connect');
  socket.setNoDelay(false); // Nagle on: the kernel is free to coalesce our tiny writes
  return socket;
}

// Deterministic payloads of varied sizes (0..299 bytes), so the test is reproducible.
function payloadsFor(count: number): Buffer[] {
  return Array.from({ length: count }, (_, i) => Buffer.alloc((i * 7919) % 300, i & 0xff));
}

describe('decodeStream over a real TCP socket on loopback', () => {
  it('recovers every frame from thousands of tiny writes with Nagle on', async () => {
    const payloads = payloadsFor(4000);
    let serverChunks = 0;
    let writes = 0;
    const received: Buffer[] = [];
    const done = new Promise<void>((resolve, reject) => {
      void listen((socket) => {
        socket.on('data', () => serverChunks++);
        const decoder = decodeStream(
          new LengthFieldDecoder({ lengthFieldLength: 4, initialBytesToStrip: 4 }),
        );
        decoder.on('data', (frame: Uint8Array) => received.push(Buffer.from(frame)));
        pipeline(socket, decoder).then(resolve, reject);
      }).then(async (port) => {
        const client = await connect(port);
        const encoder = new LengthFieldEncoder({ lengthFieldLength: 4 });
        const bytes = Buffer.concat(payloads.flatMap((p) => encoder.encode(p)));
        for (let at = 0; at < bytes.length; writes++) {
          const size = 1 + (writes % 7); // 1..7 bytes per write: headers and bodies split everywhere
          client.write(bytes.subarray(at, at + size));
          at += size;
        }
        client.end();
      }, reject);
    });
    await done;
    expect(received.length).toBe(payloads.length);
    expect(hex(received)).toEqual(hex(payloads));
    // The stream really was re-cut: far fewer reads than writes (coalesced "sticky packets").
    expect(serverChunks).toBeGreaterThan(0);
    expect(writes).toBeGreaterThan(10_000);
    expect(serverChunks).toBeLessThan(writes);
  });

  it('frames(socket, decoder) yields lines; encodeStream writes them', async () => {
    const lines = Array.from({ length: 2000 }, (_, i) => `line ${i} ${'x'.repeat(i % 50)}`);
    const got: string[] = [];
    const finished = new Promise<void>((resolve, reject) => {
      void listen(async (socket) => {
        try {
          for await (const line of frames(socket, new LineDecoder())) got.push(Buffer.from(line).toString());
          resolve();
        } catch (error) {
          reject(error);
        }
      }).then(async (port) => {
        const client = await connect(port);
        const source = encodeStream(new DelimiterEncoder({ delimiter: '\r\n' }));
        const piped = pipeline(source, client);
        for (const line of lines) source.write(Buffer.from(line));
        source.end();
        await piped;
      }, reject);
    });
    await finished;
    expect(got).toEqual(lines);
  });

  it('a peer that sends a corrupt frame is disconnected; the frames before it were delivered', async () => {
    const received: string[] = [];
    const serverError = new Promise<unknown>((resolve) => {
      void listen((socket) => {
        const decoder = decodeStream(new LengthFieldDecoder({ lengthFieldLength: 'varint' }));
        decoder.on('data', (frame: Uint8Array) => received.push(Buffer.from(frame).toString()));
        pipeline(socket, decoder).then(() => resolve(undefined), resolve);
      }).then(async (port) => {
        const client = await connect(port);
        client.on('error', () => {});
        const closed = once(client, 'close');
        // "hi", "yo", then a non-minimal varint (0x80 0x00), then bytes that would be a valid frame.
        client.write(Buffer.from([2, 0x68, 0x69, 2, 0x79, 0x6f, 0x80, 0x00, 1, 0x41]));
        await closed;
      });
    });
    const error = await serverError;
    expect(error).toBeInstanceOf(CorruptFrameError);
    expect((error as CorruptFrameError).offset).toBe(6);
    expect(received).toEqual(['hi', 'yo']);
  });
});
