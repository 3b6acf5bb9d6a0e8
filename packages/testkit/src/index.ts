export { bytewise, concat, cutAt, splitAt } from './chunking.js';
export { Cleanup, type Closer } from './cleanup.js';
export { isAlive, untilGone } from './processes.js';
export { get, type RawConnection, rawConnect, responseWithBody, statuses } from './raw-http.js';
export { DEFAULT_UNTIL_TIMEOUT_MS, sleep, UNTIL_POLL_MS, until, untilValue } from './until.js';
