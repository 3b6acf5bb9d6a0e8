export {
  type BioOptions,
  DEFAULT_MAX_THREADS,
  DEFAULT_THREAD_KEEP_ALIVE_MS,
  startBio,
} from './bio-server.js';
