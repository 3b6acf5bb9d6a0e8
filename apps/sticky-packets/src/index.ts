export type { RunRecord, SocketBufferSizes, StickyResults, UnavailableTarget } from './results.js';
export { PROTOCOLS, runStickyPackets, type StickyRunOptions } from './run-sticky-packets.js';
export { type Scenario, type ScenarioId, scenarios } from './scenarios.js';
export type { CodecName, CodecResult, StreamView } from './stream-analyzer.js';
export { TARGETS, type TargetId } from './targets.js';
