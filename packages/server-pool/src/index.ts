export {
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_QUEUE,
  DEFAULT_REQUEST_MODE_IDLE_TIMEOUT_MS,
  DEFAULT_THREADS,
  type PoolMode,
  type PoolOptions,
  startPool,
} from './pool-server.js';
