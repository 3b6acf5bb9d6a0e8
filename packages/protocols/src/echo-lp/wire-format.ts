/**
 * The echo-lp wire format: length-prefixed binary frames, every integer big-endian (network order).
 *
 * Request:
 *
 * ```text
 * +----------------+--------+---------------------------+
 * | length: u32 BE | op: u8 | payload (length - 1 bytes) |
 * +----------------+--------+---------------------------+
 *   length counts op + payload, not itself
 *
 *   op 1 echo   payload = the bytes to echo                 00 00 00 06 01 68 65 6c 6c 6f   "hello"
 *   op 2 cpu    payload = rounds: u32 BE                     00 00 00 05 02 00 00 03 e8      1000 rounds
 *   op 3 sleep  payload = ms: u32 BE                         00 00 00 05 03 00 00 00 32      50 ms
 * ```
 *
 * Response (one per request, in request order):
 *
 * ```text
 * +----------------+------------+----------------------------+
 * | length: u32 BE | status: u8 | payload (length - 1 bytes) |
 * +----------------+------------+----------------------------+
 *   status 0 ok     echo: the same bytes · cpu: the 32-byte SHA-256 chain digest · sleep: empty
 *   status 1 error  payload = UTF-8 message
 * ```
 *
 * A frame over the length cap gets an error response and the connection closes (the stream cannot be
 * trusted past it). A well-framed request with an unknown op or a bad payload gets an error response and
 * the connection stays open: the framing is still in sync.
 */

export const OP_ECHO = 1;
export const OP_CPU = 2;
export const OP_SLEEP = 3;
export const STATUS_OK = 0;
export const STATUS_ERROR = 1;
/** Bytes of the length field. */
export const LENGTH_FIELD_BYTES = 4;
/** Bytes of the op / status byte that every frame starts with. */
export const KIND_BYTES = 1;
