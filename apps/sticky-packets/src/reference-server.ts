/**
 * The reference peer: a raw echo server in a worker thread that also watches its own reads. It is the one
 * peer whose reads we can observe directly, so it shows what the *client's* writes (Nagle on/off) look
 * like on arrival.
 */
import { Worker } from 'node:worker_threads';
import type { WireProtocol } from './message-format.js';
import type { FromWorker, ToWorker } from './reference-worker.js';
import type { StreamView } from './stream-analyzer.js';

/** Finished connections whose view nobody has collected yet; the oldest are dropped past this. */
const MAX_KEPT_VIEWS = 64;
const START_TIMEOUT_MS = 10_000;

export interface ReferenceServer {
  readonly host: string;
  readonly port: number;
  /** Sets the message format of the next connections; resolves once the worker has it. */
  configure(protocol: WireProtocol, messageBytes: number): Promise<void>;
  /** The server-side view of the connection from `clientPort`, once it has closed (undefined after `timeoutMs`). */
  viewOf(clientPort: number, timeoutMs?: number): Promise<StreamView | undefined>;
  close(): Promise<void>;
}

/** Starts the worker (from `dist/`, so build first: `npm run build`). */
export async function startReferenceServer(): Promise<ReferenceServer> {
  const worker = new Worker(new URL('../dist/reference-worker.js', import.meta.url));
  const views = new Map<number, StreamView>();
  const viewWaiters = new Map<number, (view: StreamView) => void>();
  const configWaiters = new Map<number, () => void>();
  let nextId = 0;
  const send = (message: ToWorker): void => worker.postMessage(message);

  const port = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => {
      void worker.terminate();
      reject(new Error('reference server worker did not start'));
    }, START_TIMEOUT_MS);
    worker.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    worker.on('message', (message: FromWorker) => {
      if (message.type === 'listening') {
        clearTimeout(timer);
        resolve(message.port);
      } else if (message.type === 'configured') {
        configWaiters.get(message.id)?.();
        configWaiters.delete(message.id);
      } else {
        const waiter = viewWaiters.get(message.clientPort);
        if (waiter) {
          viewWaiters.delete(message.clientPort);
          waiter(message.view);
          return;
        }
        views.set(message.clientPort, message.view);
        if (views.size > MAX_KEPT_VIEWS) views.delete(views.keys().next().value as number);
      }
    });
  });

  return {
    host: '127.0.0.1',
    port,
    configure(protocol, messageBytes) {
      const id = nextId++;
      return new Promise((resolve) => {
        configWaiters.set(id, resolve);
        send({ type: 'configure', protocol, messageBytes, id });
      });
    },
    viewOf(clientPort, timeoutMs = 5_000) {
      const ready = views.get(clientPort);
      if (ready) {
        views.delete(clientPort);
        return Promise.resolve(ready);
      }
      return new Promise((resolve) => {
        const timer = setTimeout(() => {
          viewWaiters.delete(clientPort);
          resolve(undefined);
        }, timeoutMs);
        viewWaiters.set(clientPort, (view) => {
          clearTimeout(timer);
          resolve(view);
        });
      });
    },
    async close() {
      send({ type: 'close' });
      const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
      const timer = setTimeout(() => void worker.terminate(), 2_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
