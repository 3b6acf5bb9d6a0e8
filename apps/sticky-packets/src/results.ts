/** The raw results of the sticky-packet experiment, as written into results.json. */
import type { WireProtocol } from './message-format.js';
import type { Scenario, ScenarioId } from './scenarios.js';
import type { CodecName, StreamView } from './stream-analyzer.js';
import type { TargetId } from './targets.js';

export interface RunRecord {
  readonly target: TargetId;
  readonly protocol: WireProtocol;
  readonly scenario: ScenarioId;
  readonly sent: number;
  readonly messageBytes: number;
  readonly complete: boolean;
  readonly durationMs: number;
  readonly error: string | undefined;
  /** Reads of the echoed stream at the client. */
  readonly client: StreamView;
  /** Reads of the client's requests at the server (reference server only). */
  readonly server: StreamView | undefined;
}

export interface UnavailableTarget {
  readonly target: TargetId;
  readonly protocol: WireProtocol;
  readonly reason: string;
}

export interface SocketBufferSizes {
  /** `/proc/sys/net/ipv4/tcp_rmem`: min, default (initial SO_RCVBUF), max of autotuning. */
  readonly tcpRmem: readonly number[] | undefined;
  /** `/proc/sys/net/ipv4/tcp_wmem`: min, default (initial SO_SNDBUF), max. */
  readonly tcpWmem: readonly number[] | undefined;
  readonly coreRmemDefault: number | undefined;
  readonly coreWmemDefault: number | undefined;
  /** libuv reads into a 64 KiB buffer, so no single read is larger. */
  readonly nodeReadBufferBytes: number;
}

export interface StickyResults {
  readonly quick: boolean;
  readonly checksum: string;
  readonly socketBuffers: SocketBufferSizes;
  readonly scenarios: readonly Scenario[];
  readonly runs: readonly RunRecord[];
  readonly unavailable: readonly UnavailableTarget[];
  readonly durationSec: number;
}

/** The codec that the protocol itself defines. */
export function nativeCodec(protocol: WireProtocol): CodecName {
  return protocol === 'echo-lp' ? 'length-field' : 'line';
}
