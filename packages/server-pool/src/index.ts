export {
  DEFAULT_QUEUE,
  DEFAULT_THREAD_IDLE_TIMEOUT_MS,
  DEFAULT_THREADS,
  type PoolMode,
  type PoolOptions,
  startPool,
} from './pool-server.js';
