export { STATS_PUSH_MS } from './loop-cluster.js';
export type { LoopOptions } from './loop-server.js';
export { type NodeHttpOptions, startNodeHttp } from './node-http-server.js';
export { startLoop } from './start-loop.js';
