/**
 * The event loop's way to run an `Operation`. This file is the only place in the package that touches a
 * timer, and only because it *is* the async executor (the loop model's stand-in for a thread): sessions
 * never call it, a server model does. `sleep` becomes a timer so the loop stays free; everything else
 * runs inline, so `cpu` still blocks the loop, which is what the experiments are meant to show.
 */

import { runOperationSync } from './operations.js';
import type { Operation, OperationResult } from './session.js';

function noBlockingSleep(): void {
  // runOperationSync only calls its sleeper for 'sleep', which is handled before we get there.
  throw new Error('unreachable: sleep is run with a timer');
}

export function runOperation(op: Operation): Promise<OperationResult> {
  if (op.kind === 'sleep') {
    if (!Number.isFinite(op.ms) || op.ms < 0) return Promise.resolve(runOperationSync(op, noBlockingSleep));
    return new Promise((resolve) => {
      setTimeout(() => resolve({ ok: true, body: new Uint8Array(0), contentType: 'text/plain' }), op.ms);
    });
  }
  try {
    return Promise.resolve(runOperationSync(op, noBlockingSleep));
  } catch (error) {
    return Promise.reject(error);
  }
}
