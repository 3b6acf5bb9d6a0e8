export {
  AbortedError,
  BadOptionError,
  LoadgenError,
  type LoadgenErrorCode,
} from './errors.js';
export {
  type EncodedRequest,
  encodeRequest,
  type FramedOp,
  type FramedProtocol,
} from './framed-client-codec.js';
export {
  DEFAULT_CONNECT_TIMEOUT_MS,
  DEFAULT_DRAIN_TIMEOUT_MS,
  DEFAULT_MAX_IN_FLIGHT_PER_CONNECTION,
  type FramedLoadOptions,
  type FramedLoadResult,
  runFramedLoad,
  SEND_LAG_SATURATION_MS,
} from './framed-load.js';
export { MAX_LOCAL_BACKLOG_PER_CONNECTION } from './framed-load-drivers.js';
export { MAX_CONCURRENT_CONNECTS } from './framed-load-run.js';
export {
  type HttpLoadOptions,
  type HttpLoadResult,
  type LatencyMs,
  parseWrkOutput,
  runHttpLoad,
  runWrk,
  type WrkOptions,
  wrkAvailable,
} from './http-load.js';
export {
  type HttpWindow,
  type HttpWindowsOptions,
  type HttpWindowsResult,
  runHttpWindows,
} from './http-windows.js';
