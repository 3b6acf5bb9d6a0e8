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

// Decisions that do not depend on the request are made once: route() runs for every request, and the
// event loop answers 100k+ a second, so an object per call shows in its profile.
const PLAINTEXT: RouteDecision = { kind: 'operation', op: { kind: 'plaintext' } };
const JSON_OP: RouteDecision = { kind: 'operation', op: { kind: 'json' } };
const NOT_FOUND: RouteDecision = { kind: 'response', status: 404, text: 'not found' };
const GET_ONLY: RouteDecision = {
  kind: 'response',
  status: 405,
  text: 'method not allowed',
  allow: 'GET, HEAD',
};
const POST_ONLY: RouteDecision = { kind: 'response', status: 405, text: 'method not allowed', allow: 'POST' };

/**
 * The origin-form part (`/a?b`) of an origin-form or absolute-form (`http://h/a?b`) target; `undefined`
 * for the other forms. An origin-form target is returned as it is (no string made).
 */
function originForm(target: string): string | undefined {
  if (target.charCodeAt(0) === 0x2f) return target;
  const scheme = target.indexOf('://');
  if (scheme === -1) return undefined;
  const slash = target.indexOf('/', scheme + 3);
  return slash === -1 ? '/' : target.slice(slash);
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
  const rest = originForm(target);
  if (rest === undefined) return NOT_FOUND;
  const q = rest.indexOf('?');
  const path = q === -1 ? rest : rest.slice(0, q);
  const query = q === -1 ? '' : rest.slice(q + 1);
  const isGet = method === 'GET' || method === 'HEAD';
  switch (path) {
    case '/plaintext':
      return isGet ? PLAINTEXT : GET_ONLY;
    case '/json':
      return isGet ? JSON_OP : GET_ONLY;
    case '/cpu': {
      if (!isGet) return GET_ONLY;
      const n = bounded(query, 'n', limits.maxCpuRounds);
      return n.ok
        ? { kind: 'operation', op: { kind: 'cpu', rounds: n.value } }
        : { kind: 'response', status: 400, text: n.text };
    }
    case '/sleep': {
      if (!isGet) return GET_ONLY;
      const ms = bounded(query, 'ms', limits.maxSleepMs);
      return ms.ok
        ? { kind: 'operation', op: { kind: 'sleep', ms: ms.value } }
        : { kind: 'response', status: 400, text: ms.text };
    }
    case '/echo':
      return method === 'POST' ? { kind: 'operation', op: { kind: 'echo', body } } : POST_ONLY;
    default:
      return NOT_FOUND;
  }
}
