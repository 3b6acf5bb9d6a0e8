import type { Socket } from 'node:net';

/**
 * After we send FIN we keep reading (and discarding) for this long before destroying the socket. Closing
 * with unread request bytes in the kernel makes Linux send RST, and a RST can destroy the response we just
 * wrote before the client reads it (the 400 after a malformed pipelined request, for one). 2 s is what a
 * client on loopback or a LAN needs to read and close; a slower one loses only bytes it had not read.
 */
export const LINGER_MS = 2000;

/**
 * Ends our side once written bytes are flushed, then waits (at most LINGER_MS) for the peer to close.
 * Callers must ignore 'data' after calling this; the bytes are read only to be dropped.
 */
export function closeAfterFlush(socket: Socket): void {
  if (socket.destroyed || socket.writableEnded) return;
  socket.end();
  socket.resume();
  // Both directions done: release the descriptor now rather than at the linger deadline.
  const destroyWhenBothDone = (): void => {
    if (socket.readableEnded && socket.writableFinished) socket.destroy();
  };
  socket.once('end', destroyWhenBothDone);
  socket.once('finish', destroyWhenBothDone);
  const timer = setTimeout(() => socket.destroy(), LINGER_MS);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
}
