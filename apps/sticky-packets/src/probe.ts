/**
 * The client half of a scenario: writes the scenario's messages one `write()` each, reads the echo back
 * read by read into a {@link StreamAnalyzer}, and stops when every echoed byte is in (or on timeout/abort).
 */
import { connect, type Socket } from 'node:net';
import { AbortedError } from '@iolab/loadgen';
import { buildMessage, echoedSize, type WireProtocol } from './message-format.js';
import type { Scenario } from './scenarios.js';
import { StreamAnalyzer, type StreamView } from './stream-analyzer.js';

export interface ProbeOptions {
  readonly host: string;
  readonly port: number;
  readonly protocol: WireProtocol;
  readonly scenario: Scenario;
  /** The peer echoes bytes verbatim (reference server) rather than answering the protocol. */
  readonly rawEcho: boolean;
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
}

export interface ProbeResult {
  readonly sent: number;
  readonly expectedBytes: number;
  readonly receivedBytes: number;
  /** Every echoed byte arrived before the timeout. */
  readonly complete: boolean;
  readonly durationMs: number;
  /** The client's local port, which the reference server uses to find this connection's server-side view. */
  readonly localPort: number;
  readonly error: string | undefined;
  /** Reads of the echoed stream, as this client saw them. */
  readonly client: StreamView;
}

export function runProbe(options: ProbeOptions): Promise<ProbeResult> {
  const { scenario, protocol } = options;
  const responseBytes = echoedSize(protocol, scenario.messageBytes, options.rawEcho);
  const expectedBytes = responseBytes * scenario.messages;
  const analyzer = new StreamAnalyzer(protocol, responseBytes);
  const started = performance.now();

  return new Promise((resolve, reject) => {
    if (options.signal?.aborted) {
      reject(new AbortedError('sticky-packets probe'));
      return;
    }
    const socket: Socket = connect({ host: options.host, port: options.port });
    let received = 0;
    let sent = 0;
    let localPort = 0;
    let settled = false;
    let error: string | undefined;
    const pauseTimers = new Set<NodeJS.Timeout>();

    const finish = (): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timeout);
      for (const t of pauseTimers) clearTimeout(t);
      options.signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve({
        sent,
        expectedBytes,
        receivedBytes: received,
        complete: received >= expectedBytes,
        durationMs: performance.now() - started,
        localPort,
        error,
        client: analyzer.end(),
      });
    };
    const onAbort = (): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timeout);
      for (const t of pauseTimers) clearTimeout(t);
      socket.destroy();
      reject(new AbortedError('sticky-packets probe'));
    };
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const timeout = setTimeout(() => {
      error = `timed out after ${options.timeoutMs} ms with ${received} of ${expectedBytes} bytes`;
      finish();
    }, options.timeoutMs);

    socket.on('data', (chunk: Buffer) => {
      analyzer.push(chunk);
      received += chunk.length;
      if (received >= expectedBytes) {
        finish();
        return;
      }
      if (scenario.readerPauseMs > 0) {
        socket.pause();
        const t = setTimeout(() => {
          pauseTimers.delete(t);
          socket.resume();
        }, scenario.readerPauseMs);
        pauseTimers.add(t);
      }
    });
    socket.on('error', (e: NodeJS.ErrnoException) => {
      error = e.code ?? e.message;
    });
    socket.on('close', finish);

    const writeBurst = (): void => {
      if (settled) return;
      let ok = true;
      for (let i = 0; i < scenario.burst && sent < scenario.messages; i++) {
        ok = socket.write(buildMessage(protocol, sent, scenario.messageBytes));
        sent++;
      }
      if (sent >= scenario.messages) return;
      // Respect backpressure so a slow peer cannot make us queue every message in memory.
      if (ok) setImmediate(writeBurst);
      else socket.once('drain', writeBurst);
    };
    socket.once('connect', () => {
      localPort = socket.localPort ?? 0;
      socket.setNoDelay(scenario.noDelay);
      writeBurst();
    });
  });
}
