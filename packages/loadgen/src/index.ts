export {
  AbortedError,
  BadOptionError,
  FdLimitError,
  LoadgenError,
  type LoadgenErrorCode,
} from './errors.js';
export {
  type FirstAnswersOptions,
  type FirstAnswersRequest,
  type FirstAnswersResult,
  MAX_ANSWER_BYTES,
  measureFirstAnswers,
} from './first-answers.js';
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
  type HttpErrorBreakdown,
  type HttpLoadOptions,
  type HttpLoadResult,
  type LatencyMs,
  runHttpLoad,
} from './http-load.js';
export {
  type HttpWindow,
  type HttpWindowsOptions,
  type HttpWindowsResult,
  runHttpWindows,
} from './http-windows.js';
export {
  DEFAULT_WRK_TIMEOUT_SEC,
  parseWrkOutput,
  runWrk,
  type WrkOptions,
  wrkAvailable,
} from './wrk-load.js';
