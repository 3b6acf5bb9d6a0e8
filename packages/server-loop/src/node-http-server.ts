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
import { cpuDigestHex, resolveLimits, route, runOperation } from '@iolab/protocols';
import { type Connection, checkIntegerOption, ServerBase, type ServerOptions } from '@iolab/server-core';
import { DEFAULT_IDLE_TIMEOUT_MS } from './loop-server.js';

export interface NodeHttpOptions extends Omit<ServerOptions, 'protocol'> {
  /** keepAliveTimeout of the http.Server; 0 disables. */
  readonly idleTimeoutMs?: number;
}

const limits = resolveLimits();

class NodeHttpServer extends ServerBase {
  readonly #http: Server;
  /** Requests being answered per socket; a draining socket closes when its count reaches 0. */
  readonly #inFlight = new WeakMap<Socket, number>();
  readonly #draining = new WeakSet<Socket>();
  /** The base's connection id per socket, for failure logs. */
  readonly #ids = new WeakMap<Socket, number>();

  constructor(options: NodeHttpOptions) {
    super({ ...options, protocol: 'http' });
    const idle = checkIntegerOption(
      'idleTimeoutMs',
      options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS,
      0,
      86_400_000,
    );
    // Same header cap as our session, so oversized headers get 431 from both.
    this.#http = createServer(
      { maxHeaderSize: limits.maxHeaderBytes, keepAliveTimeout: idle },
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
    this.#http.keepAliveTimeout = idle;
  }

  protected override serve(connection: Connection): void {
    const socket = connection.socket;
    this.#ids.set(socket, connection.id);
    connection.drain = () => {
      this.#draining.add(socket);
      if ((this.#inFlight.get(socket) ?? 0) === 0) socket.end();
    };
    this.#http.emit('connection', socket);
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const socket = req.socket;
    this.#inFlight.set(socket, (this.#inFlight.get(socket) ?? 0) + 1);
    res.once('close', () => {
      const left = (this.#inFlight.get(socket) ?? 1) - 1;
      this.#inFlight.set(socket, left);
      if (left === 0 && this.#draining.has(socket)) socket.end();
    });
    const body = await readBody(req, limits.maxBodyBytes);
    if (body === undefined) {
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
