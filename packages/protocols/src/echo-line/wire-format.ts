/**
 * The echo-line wire format: one ASCII command per line, one reply line per command, in order.
 * `\n` ends a line; `\r\n` is accepted too (the `\r` is dropped).
 *
 * ```text
 * request                    reply
 * ECHO <text>\n              OK <text>\n        (ECHO with empty text → OK\n)
 * CPU <rounds>\n             OK <64 hex digits of the SHA-256 chain digest>\n
 * SLEEP <ms>\n               OK\n
 * anything else              ERR <message>\n    (connection stays open)
 * a line over the cap        ERR <message>\n    then close
 *
 * bytes:  45 43 48 4f 20 68 69 0a   "ECHO hi\n"   →   4f 4b 20 68 69 0a   "OK hi\n"
 * ```
 *
 * `<text>` is raw bytes (any but `\n`), echoed as received; it must not end with `\r`, which would be
 * read as part of a `\r\n`. Numbers are plain decimal.
 */

export const LF = 0x0a;
export const CR = 0x0d;
export const SPACE = 0x20;
/** Room for the command word and its space on top of the text cap (`SLEEP ` is the longest). */
export const COMMAND_OVERHEAD_BYTES = 16;
