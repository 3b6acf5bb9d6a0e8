export { type BioOptions, DEFAULT_MAX_THREADS, startBio } from './bio-server.js';
