/**
 * The routes every server model serves over HTTP, mapped onto `Operation`s:
 *
 *   GET  /plaintext      → plaintext   "Hello, World!"            text/plain
 *   GET  /json           → json        {"message":"Hello, World!"} application/json
 *   GET  /cpu?n=ROUNDS   → cpu         hex SHA-256 chain digest     text/plain
 *   GET  /sleep?ms=MS    → sleep       empty body after MS ms       text/plain
 *   POST /echo           → echo        the request body back        application/octet-stream
 *
 * HEAD is served wherever GET is. Unknown path → 404, known path with another method → 405 + Allow,
 * bad or over-cap query → 400 (the connection stays open: the request was well-formed HTTP).
 */

import type { ResolvedLimits } from '../limits.js';
import type { Operation } from '../session.js';

export type RouteDecision =
  | { readonly kind: 'operation'; readonly op: Operation }
  | { readonly kind: 'response'; readonly status: number; readonly text: string; readonly allow?: string };

const PLAINTEXT: Operation = { kind: 'plaintext' };
const JSON_OP: Operation = { kind: 'json' };

/** The path of origin-form (`/a?b`) or absolute-form (`http://h/a?b`) targets; other forms have none. */
function splitTarget(target: string): { path: string; query: string } | undefined {
  let rest = target;
  if (!rest.startsWith('/')) {
    const scheme = rest.indexOf('://');
    if (scheme === -1) return undefined;
    const slash = rest.indexOf('/', scheme + 3);
    rest = slash === -1 ? '/' : rest.slice(slash);
  }
  const q = rest.indexOf('?');
  return q === -1 ? { path: rest, query: '' } : { path: rest.slice(0, q), query: rest.slice(q + 1) };
}

/** The integer value of `name` in the query, `undefined` if absent, NaN if not a plain decimal. */
function intParam(query: string, name: string): number | undefined {
  for (const pair of query.split('&')) {
    const eq = pair.indexOf('=');
    const key = eq === -1 ? pair : pair.slice(0, eq);
    if (key !== name) continue;
    const value = eq === -1 ? '' : pair.slice(eq + 1);
    return /^[0-9]{1,15}$/.test(value) ? Number(value) : Number.NaN;
  }
  return undefined;
}

function bounded(
  query: string,
  name: string,
  cap: number,
): { ok: true; value: number } | { ok: false; text: string } {
  const value = intParam(query, name);
  if (value === undefined || Number.isNaN(value) || value > cap) {
    return { ok: false, text: `IOLAB_OPERATION_OUT_OF_RANGE: ${name} must be an integer from 0 to ${cap}` };
  }
  return { ok: true, value };
}

export function route(
  method: string,
  target: string,
  body: Uint8Array,
  limits: ResolvedLimits,
): RouteDecision {
  const parts = splitTarget(target);
  if (!parts) return { kind: 'response', status: 404, text: 'not found' };
  const isGet = method === 'GET' || method === 'HEAD';
  const notAllowed = (allow: string): RouteDecision => ({
    kind: 'response',
    status: 405,
    text: 'method not allowed',
    allow,
  });
  switch (parts.path) {
    case '/plaintext':
      return isGet ? { kind: 'operation', op: PLAINTEXT } : notAllowed('GET, HEAD');
    case '/json':
      return isGet ? { kind: 'operation', op: JSON_OP } : notAllowed('GET, HEAD');
    case '/cpu': {
      if (!isGet) return notAllowed('GET, HEAD');
      const n = bounded(parts.query, 'n', limits.maxCpuRounds);
      return n.ok
        ? { kind: 'operation', op: { kind: 'cpu', rounds: n.value } }
        : { kind: 'response', status: 400, text: n.text };
    }
    case '/sleep': {
      if (!isGet) return notAllowed('GET, HEAD');
      const ms = bounded(parts.query, 'ms', limits.maxSleepMs);
      return ms.ok
        ? { kind: 'operation', op: { kind: 'sleep', ms: ms.value } }
        : { kind: 'response', status: 400, text: ms.text };
    }
    case '/echo':
      return method === 'POST' ? { kind: 'operation', op: { kind: 'echo', body } } : notAllowed('POST');
    default:
      return { kind: 'response', status: 404, text: 'not found' };
  }
}
