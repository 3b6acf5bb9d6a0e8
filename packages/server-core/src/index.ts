export { type BlockingIo, BlockingSocket, type ReadEnd } from './blocking-socket.js';
export {
  type ConnectionFailureLog,
  type ConnectionRejectionLog,
  FAILURE_LOG_LINES_PER_SECOND,
  stderrFailureLog,
  stderrRejectionLog,
} from './connection-failure-log.js';
export {
  ConnectionFailedError,
  type ConnectionFailureCode,
  describeThrown,
  InvalidServerOptionError,
  IolabServerError,
  type IolabServerErrorCode,
  RelayBufferError,
  RelayClosedError,
} from './errors.js';
export {
  findTransferCapableNode,
  type LocateOptions,
  NODE_INSTALL_TIMEOUT_MS,
  type NodeNotFound,
  nodeCacheDir,
  probeNode,
  TRANSFER_NODE_VERSION,
  type TransferNode,
} from './node-locator.js';
export {
  acceptedAtMs,
  type Clock,
  DEFAULT_HEADER_TIMEOUT_MS,
  DEFAULT_IDLE_TIMEOUT_MS,
  type DeadlineKind,
  expireDeadline,
  ReadDeadline,
  type ReadTimeouts,
} from './read-deadline.js';
export {
  createRelayBuffer,
  DEFAULT_RING_CAPACITY,
  MAX_RING_CAPACITY,
  MIN_RING_CAPACITY,
  type RelayCapacities,
} from './relay-buffer.js';
export { type BlockingEnd, type BlockingFailures, serveBlocking } from './serve-blocking.js';
export {
  type EventedConnection,
  type EventedOptions,
  type RunOperation,
  type RunOperationNow,
  serveEvented,
} from './serve-evented.js';
export { type OwnedConnection, type OwnedControl, ownSocket, serveOwned } from './serve-owned.js';
export {
  type Connection,
  checkIntegerOption,
  DEFAULT_BACKLOG,
  DEFAULT_DRAIN_TIMEOUT_MS,
  DEFAULT_HOST,
  type RunningServer,
  ServerBase,
  type ServerOptions,
  type ServerStats,
  type SocketMode,
  type ThreadStats,
} from './server-base.js';
export { SharedCounters } from './shared-counters.js';
export { closeAfterFlush, LINGER_MS } from './socket-close.js';
export { relaySocket, type SocketRelay } from './socket-relay.js';
export {
  resolveSocketMode,
  SOCKET_MODE_CHOICES,
  type SocketModeChoice,
  socketTransferSupported,
} from './socket-transfer.js';
