/**
 * Running an `Operation` synchronously: what the thread models (BIO, pool) call from their worker. No
 * timer here: `sleep` is whatever blocking wait the caller passes (normally `blockingSleep`). The event
 * loop's async runner lives apart, in `run-operation-async.ts`, because it is the one place a timer is
 * allowed.
 */

import { createHash } from 'node:crypto';
import type { Operation, OperationResult } from './session.js';

/** TechEmpower's plaintext body. */
export const PLAINTEXT_BODY = 'Hello, World!';
/** TechEmpower's JSON body, serialized the same way every time. */
export const JSON_BODY = JSON.stringify({ message: PLAINTEXT_BODY });

const encoder = new TextEncoder();
/** Shared with the HTTP session, which recognises these exact arrays to reuse finished responses. */
export const PLAINTEXT_BYTES = encoder.encode(PLAINTEXT_BODY);
export const JSON_BYTES = encoder.encode(JSON_BODY);
const EMPTY = new Uint8Array(0);
/** The two fixed results, made once: the loop answers 100k+ of them a second and each object would show. */
const PLAINTEXT_RESULT: OperationResult = Object.freeze({
  ok: true,
  body: PLAINTEXT_BYTES,
  contentType: 'text/plain',
});
const JSON_RESULT: OperationResult = Object.freeze({
  ok: true,
  body: JSON_BYTES,
  contentType: 'application/json',
});

/** The starting value of the `cpu` hash chain, so a digest can be checked by anyone. */
const CPU_SEED = new Uint8Array(32);

/**
 * `rounds` iterations of SHA-256, each over the previous 32-byte digest, starting from 32 zero bytes:
 *
 *   d0 = 00…00 (32 bytes)      d(k+1) = SHA-256(dk)      result = d(rounds)
 *
 * Synchronous (node:crypto's one-shot hash), so it works the same on the main thread and in a worker.
 */
export function cpuDigest(rounds: number): Uint8Array {
  let digest: Uint8Array = CPU_SEED;
  for (let i = 0; i < rounds; i++) digest = createHash('sha256').update(digest).digest();
  return digest === CPU_SEED ? CPU_SEED.slice() : digest;
}

/**
 * A `cpu` digest as lowercase hex text, the way the text protocols show it (HTTP's `/cpu`, echo-line's
 * `OK <hex>`); echo-lp sends the raw bytes:
 *
 *   [ 0x0a, 0xff ]  →  "0aff"  (as bytes: 30 61 66 66)
 */
export function cpuDigestHex(digest: Uint8Array): Uint8Array {
  let s = '';
  for (const b of digest) s += b.toString(16).padStart(2, '0');
  return encoder.encode(s);
}

// One private cell nobody ever notifies: Atomics.wait on it can only time out, which is the point.
const sleepCell = new Int32Array(new SharedArrayBuffer(4));

/**
 * Blocks the calling thread for `ms` milliseconds without burning CPU (Atomics.wait parks it in the
 * kernel). This is the "call to a slow downstream" of the thread models; never use it on the event loop
 * of a server you want to stay responsive, which is exactly what the experiments show.
 */
export function blockingSleep(ms: number): void {
  if (ms > 0) Atomics.wait(sleepCell, 0, 0, ms);
}

/** Runs `op` to completion on this thread; `sleepSync` performs `sleep` (pass `blockingSleep`). */
export function runOperationSync(op: Operation, sleepSync: (ms: number) => void): OperationResult {
  switch (op.kind) {
    case 'plaintext':
      return PLAINTEXT_RESULT;
    case 'json':
      return JSON_RESULT;
    case 'cpu':
      if (!Number.isSafeInteger(op.rounds) || op.rounds < 0) {
        return { ok: false, status: 400, message: `cpu rounds must be a non-negative integer` };
      }
      return { ok: true, body: cpuDigest(op.rounds), contentType: 'application/octet-stream' };
    case 'sleep':
      if (!Number.isFinite(op.ms) || op.ms < 0) {
        return { ok: false, status: 400, message: `sleep ms must be a non-negative number` };
      }
      sleepSync(op.ms);
      return { ok: true, body: EMPTY, contentType: 'text/plain' };
    case 'echo':
      return { ok: true, body: op.body, contentType: 'application/octet-stream' };
  }
}
