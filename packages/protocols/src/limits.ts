/**
 * Every cap a session enforces, with its default and the reason for it. One bag for all protocols so a
 * server model can pass `--max-body` etc. through without knowing which protocol reads which field.
 */

/** Request line (`GET /path HTTP/1.1`), CRLF excluded. 8 KiB is what nginx and Apache allow by default. */
export const DEFAULT_MAX_REQUEST_LINE_BYTES = 8 * 1024;
/** All header lines of one request (and its trailers) together: Node's own `--max-http-header-size`. */
export const DEFAULT_MAX_HEADER_BYTES = 16 * 1024;
/** Header fields per request: Apache's `LimitRequestFields`; bounds per-request parsing work. */
export const DEFAULT_MAX_HEADER_COUNT = 100;
/** Request body (and framed payload). nginx's `client_max_body_size`: a large echo fits, a flood does not. */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
/** Chunk-size line incl. extensions: a size needs ≤ 16 hex digits, extensions are not used by anyone sane. */
export const DEFAULT_MAX_CHUNK_LINE_BYTES = 1024;
/**
 * Requests parsed but not yet answered on one connection. Past it the session stops parsing (the bytes
 * wait in its input buffer) so a pipelining client cannot make it queue unbounded work.
 */
export const DEFAULT_MAX_PIPELINE_DEPTH = 64;
/**
 * Input bytes held while parsing is paused at `maxPipelineDepth`. Past it the session answers what is in
 * flight, then 503 (HTTP) or an error (framed), then closes: memory stays bounded even if the server
 * model never stops reading.
 */
export const DEFAULT_MAX_PAUSED_INPUT_BYTES = 2 * 1024 * 1024;
/** `cpu` rounds of SHA-256: ~1 µs each, so the cap is about a second of one core. */
export const DEFAULT_MAX_CPU_ROUNDS = 1_000_000;
/** `sleep` milliseconds: long enough to model a slow downstream, short enough that a test never hangs. */
export const DEFAULT_MAX_SLEEP_MS = 10_000;

export interface SessionLimits {
  /** HTTP: request line bytes; longer → 414 and close. */
  readonly maxRequestLineBytes?: number;
  /** HTTP: header section bytes (also trailers); more → 431 and close. */
  readonly maxHeaderBytes?: number;
  /** HTTP: header fields (also trailers); more → 431 and close. */
  readonly maxHeaderCount?: number;
  /** HTTP body bytes (→ 413 and close) and framed payload bytes (→ error response and close). */
  readonly maxBodyBytes?: number;
  /** HTTP: chunk-size line bytes; longer → 400 and close. */
  readonly maxChunkLineBytes?: number;
  /** Unanswered requests per connection before parsing pauses. */
  readonly maxPipelineDepth?: number;
  /** Input bytes buffered while paused before the session gives up on the connection. */
  readonly maxPausedInputBytes?: number;
  /** Largest accepted `cpu` rounds; above → 400 / error response, connection kept. */
  readonly maxCpuRounds?: number;
  /** Largest accepted `sleep` ms; above → 400 / error response, connection kept. */
  readonly maxSleepMs?: number;
}

export type ResolvedLimits = { readonly [K in keyof SessionLimits]-?: number };

let defaultLimits: ResolvedLimits | undefined;

/**
 * Every cap with its default filled in, checked. Without `limits`, every session shares one frozen
 * object: a server with thousands of connections keeps one copy, which stays in cache across them.
 */
export function resolveLimits(limits?: SessionLimits): ResolvedLimits {
  if (limits === undefined) {
    defaultLimits ??= Object.freeze(resolveGiven({}));
    return defaultLimits;
  }
  return resolveGiven(limits);
}

function resolveGiven(limits: SessionLimits): ResolvedLimits {
  const resolved: ResolvedLimits = {
    maxRequestLineBytes: limits.maxRequestLineBytes ?? DEFAULT_MAX_REQUEST_LINE_BYTES,
    maxHeaderBytes: limits.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES,
    maxHeaderCount: limits.maxHeaderCount ?? DEFAULT_MAX_HEADER_COUNT,
    maxBodyBytes: limits.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
    maxChunkLineBytes: limits.maxChunkLineBytes ?? DEFAULT_MAX_CHUNK_LINE_BYTES,
    maxPipelineDepth: limits.maxPipelineDepth ?? DEFAULT_MAX_PIPELINE_DEPTH,
    maxPausedInputBytes: limits.maxPausedInputBytes ?? DEFAULT_MAX_PAUSED_INPUT_BYTES,
    maxCpuRounds: limits.maxCpuRounds ?? DEFAULT_MAX_CPU_ROUNDS,
    maxSleepMs: limits.maxSleepMs ?? DEFAULT_MAX_SLEEP_MS,
  };
  for (const [name, value] of Object.entries(resolved)) {
    // Checked once here, like Netty's constructors, so a typo fails at startup and not on the 10,000th request.
    if (!Number.isSafeInteger(value) || value < (name === 'maxCpuRounds' || name === 'maxSleepMs' ? 0 : 1)) {
      throw new RangeError(`limits.${name} must be a positive safe integer, got ${value}`);
    }
  }
  return resolved;
}
