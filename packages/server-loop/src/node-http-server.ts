/**
 * The reference: Node's own `node:http` on the event loop, serving the same routes with the same operations
 * (`route` and `runOperation` from @iolab/protocols), so a report can show what the standard library's
 * parser and response machinery cost next to our sans-I/O session on the same loop.
 *
 * The shared base still owns listen/accept/drain/stats; accepted sockets are handed to an `http.Server`
 * with `emit('connection')`, the documented way to feed it sockets it did not accept itself.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { cpuDigestHex, resolveLimits, route, runOperation, type SessionRejection } from '@iolab/protocols';
import { type Connection, closeAfterFlush, ServerBase, type ServerOptions } from '@iolab/server-core';

/** `headerTimeoutMs` is node:http's `headersTimeout`, `idleTimeoutMs` its `keepAliveTimeout`. */
export interface NodeHttpOptions extends Omit<ServerOptions, 'protocol'> {}

/**
 * node:http checks `headersTimeout` on a sweep every `connectionsCheckingInterval` (30 s by default, which
 * is why a slow client meets its 60 s timeout only after ~90 s). A quarter of the timeout keeps the close
 * within 25 % of it, as our own models are; the bounds keep the sweep cheap.
 */
const MIN_CHECK_INTERVAL_MS = 100;
const MAX_CHECK_INTERVAL_MS = 30_000;

/** The responses node:http writes itself on a client error when nobody listens for 'clientError'. */
const REQUEST_TIMEOUT = 'HTTP/1.1 408 Request Timeout\r\nConnection: close\r\n\r\n';
const HEADER_OVERFLOW = 'HTTP/1.1 431 Request Header Fields Too Large\r\nConnection: close\r\n\r\n';
const BAD_REQUEST = 'HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n';

const limits = resolveLimits();

class NodeHttpServer extends ServerBase {
  readonly #http: Server;
  /** Requests being answered per socket; a draining socket closes when its count reaches 0. */
  readonly #inFlight = new WeakMap<Socket, number>();
  readonly #draining = new WeakSet<Socket>();
  /** The base's connection id per socket, for failure logs. */
  readonly #ids = new WeakMap<Socket, number>();
  /** The response being written on each socket, so a client error never cuts into one. */
  readonly #responding = new WeakMap<Socket, ServerResponse>();
  /** Sockets already answered a client error: node:http reports one again for every later chunk. */
  readonly #clientErrored = new WeakSet<Socket>();

  constructor(options: NodeHttpOptions) {
    super({ ...options, protocol: 'http' });
    const { headerTimeoutMs, idleTimeoutMs } = this.timeouts;
    const checkEvery = Math.min(
      MAX_CHECK_INTERVAL_MS,
      Math.max(MIN_CHECK_INTERVAL_MS, Math.floor((headerTimeoutMs || MAX_CHECK_INTERVAL_MS) / 4)),
    );
    // Same header cap as our session, so oversized headers get 431 from both. requestTimeout (whole
    // request, 300 s by default) is off: no other model has one, and it would cap a slow /sleep.
    this.#http = createServer(
      {
        maxHeaderSize: limits.maxHeaderBytes,
        keepAliveTimeout: idleTimeoutMs,
        headersTimeout: headerTimeoutMs,
        requestTimeout: 0,
        connectionsCheckingInterval: checkEvery,
      },
      (req, res) => {
        this.#handle(req, res).catch((err: unknown) => {
          if (!req.complete) {
            // The peer went away mid-body (node:http answers the parse side itself): not our failure.
            res.destroy();
            return;
          }
          // A handler that threw or a body stream that failed (the peer reset mid-body): 500 if nothing
          // was sent yet, close this connection either way, count and log; nothing else is affected.
          this.connectionFailed(this.#ids.get(req.socket), 'IOLAB_SERVER_HANDLER_FAILED', err);
          if (!res.headersSent && !res.destroyed) {
            res.writeHead(500, { 'content-type': 'text/plain', connection: 'close' });
            res.end('internal server error');
          } else {
            res.destroy();
          }
        });
      },
    );
    this.#http.keepAliveTimeout = idleTimeoutMs;
    // node:http starts its connection tracking (and so `headersTimeout`) on its own 'listening' event,
    // which a server fed with emit('connection') never sees: start it the same way.
    this.#http.emit('listening');
    // A listener replaces node:http's own answer, so this writes what node:http would, and counts timeouts.
    this.#http.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => {
      if (this.#clientErrored.has(socket)) return;
      this.#clientErrored.add(socket);
      if (err.code === 'ERR_HTTP_REQUEST_TIMEOUT') this.counters.addHeaderTimeouts();
      // llhttp refused the peer's bytes: counted as `rejected` and logged with its code, as the sessions'
      // refusals are. A socket error (a reset) arrives here too; the base already counts it in `errors`.
      else if (err.code?.startsWith('HPE_'))
        this.connectionRejected(this.#ids.get(socket), clientRejection(err));
      // As node:http's own handler: answer unless a response is part-way out (its head sent, not yet all
      // of it). A keep-alive socket that already carried whole answers still gets its 400/408/431 (the
      // hostile corpus's "CL + TE after a valid request", byte by byte: 200 then 400, as node:http).
      const current = this.#responding.get(socket);
      const midResponse = current?.headersSent === true && !current.writableEnded;
      if (socket.writable && !midResponse) {
        socket.write(
          err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
            ? REQUEST_TIMEOUT
            : err.code === 'HPE_HEADER_OVERFLOW'
              ? HEADER_OVERFLOW
              : BAD_REQUEST,
        );
      }
      // Not node:http's destroy(): a peer still sending (byte by byte, or pipelined bytes after the bad
      // request) would get an RST that can wipe the answer just written, before it reads it. FIN after our
      // bytes and a bounded linger, as every other model closes. A peer's bad bytes are not a server error.
      closeAfterFlush(socket);
    });
  }

  protected override async stopThreads(): Promise<void> {
    // Stops the connection-checking timer started above; the http.Server itself never listened.
    await new Promise<void>((resolve) => this.#http.close(() => resolve()));
  }

  protected override serve(connection: Connection): void {
    const socket = connection.socket;
    this.#ids.set(socket, connection.id);
    connection.drain = () => {
      this.#draining.add(socket);
      if ((this.#inFlight.get(socket) ?? 0) === 0) socket.end();
    };
    // node:http arms this socket timeout for keepAliveTimeout between requests (server.timeout is 0).
    socket.on('timeout', () => this.counters.addIdleTimeouts());
    this.#http.emit('connection', socket);
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const socket = req.socket;
    this.#inFlight.set(socket, (this.#inFlight.get(socket) ?? 0) + 1);
    this.#responding.set(socket, res);
    res.once('close', () => {
      if (this.#responding.get(socket) === res) this.#responding.delete(socket);
      const left = (this.#inFlight.get(socket) ?? 1) - 1;
      this.#inFlight.set(socket, left);
      if (left === 0 && this.#draining.has(socket)) socket.end();
    });
    const body = await readBody(req, limits.maxBodyBytes);
    if (body === undefined) {
      this.connectionRejected(this.#ids.get(socket), {
        code: 'IOLAB_HTTP_BODY_TOO_LARGE',
        status: 413,
        message: `body over ${limits.maxBodyBytes} bytes`,
      });
      res.writeHead(413, { 'content-type': 'text/plain', connection: 'close' }).end('body too large');
      return;
    }
    const decision = route(req.method ?? 'GET', req.url ?? '/', body, limits);
    if (decision.kind === 'response') {
      const headers: Record<string, string> = { 'content-type': 'text/plain' };
      if (decision.allow !== undefined) headers.allow = decision.allow;
      res.writeHead(decision.status, headers).end(decision.text);
      return;
    }
    const result = await runOperation(decision.op);
    this.counters.addRequests();
    if (this.#draining.has(socket)) res.setHeader('connection', 'close');
    if (result.ok) {
      // As HttpServerSession renders it: HTTP shows the cpu digest as hex text, framed protocols send raw bytes.
      const cpu = decision.op.kind === 'cpu';
      const body = cpu ? cpuDigestHex(result.body) : result.body;
      res.writeHead(200, {
        'content-type': cpu ? 'text/plain' : result.contentType,
        'content-length': body.length,
      });
      res.end(body);
    } else {
      res.writeHead(result.status, { 'content-type': 'text/plain' }).end(result.message);
    }
  }
}

/** A node:http client error as a refusal: llhttp's `HPE_*` code (or the socket error's) and our status. */
function clientRejection(err: NodeJS.ErrnoException): SessionRejection {
  return {
    code: err.code ?? 'HPE_UNKNOWN',
    status: err.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400,
    message: err.message,
  };
}

/** Collects a request body up to `cap` bytes; `undefined` when it is larger. */
async function readBody(req: IncomingMessage, cap: number): Promise<Uint8Array | undefined> {
  const chunks: Buffer[] = [];
  let length = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    length += chunk.length;
    if (length > cap) return undefined;
    chunks.push(chunk);
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, length);
}

/** Starts the node:http reference server (HTTP only); resolves once it accepts connections. */
export function startNodeHttp(options: NodeHttpOptions) {
  return new NodeHttpServer(options).start();
}
