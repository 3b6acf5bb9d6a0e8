/**
 * Accepting side: which version is this, and is it complete? Used by listeners with
 * `acceptProxyProtocol`, which require a header (HAProxy `accept-proxy`: a connection without one is refused,
 * since trusting an unproxied peer's address would be wrong either way).
 */

import { ProxyHeaderInvalidError } from '../errors.js';
import type { ProxyParseResult } from './header.js';
import { couldBeProxyV1, parseProxyV1 } from './v1.js';
import { couldBeProxyV2, DEFAULT_PROXY_V2_MAX_LENGTH, parseProxyV2 } from './v2.js';

/** Parse a v1 or v2 header at the start of `buf` (`{ done: false }` = need more bytes). */
export function parseProxyHeader(
  buf: Uint8Array,
  maxV2Length = DEFAULT_PROXY_V2_MAX_LENGTH,
): ProxyParseResult {
  if (buf.length === 0) return { done: false };
  if (couldBeProxyV2(buf) && buf[0] === 0x0d) return parseProxyV2(buf, maxV2Length);
  if (couldBeProxyV1(buf)) return parseProxyV1(buf);
  throw new ProxyHeaderInvalidError('neither a PROXY v1 nor a v2 signature', 0);
}
