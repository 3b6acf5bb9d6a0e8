/**
 * The client side of the lab, run inside the client namespace:
 *
 *   node client-probe.js who URL N          N requests, each on a new connection; waits (bounded) for the
 *                                           first answer, then prints {"answers":[...],"errors":n}
 *   node client-probe.js watch URL          until SIGTERM: a new connection every NEW_EVERY_MS and
 *                                           ESTABLISHED keep-alive connections each asking every
 *                                           EST_EVERY_MS; one JSON line per result {t,k,ok,body|err}
 *
 * `k` is `n` (new connection) or `e` (established); `t` is Date.now(), comparable with the parent's clock.
 */
import { Agent, request } from 'node:http';

/** Per request: a failover that takes longer than this shows up as errors, not as one long wait. */
const REQUEST_TIMEOUT_MS = 1_000;
/** `who` waits at most this long for a target to answer its first request (a proxy still starting). */
const FIRST_ANSWER_DEADLINE_MS = 15_000;
const NEW_EVERY_MS = 50;
const ESTABLISHED = 4;
const EST_EVERY_MS = 100;

function get(url: string, agent: Agent | false): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent, timeout: REQUEST_TIMEOUT_MS }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
      });
      res.on('end', () =>
        res.statusCode === 200 ? resolve(body.trim()) : reject(new Error(`HTTP ${res.statusCode}`)),
      );
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (e: NodeJS.ErrnoException) => reject(new Error(e.code ?? e.message)));
    req.end();
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function who(url: string, n: number): Promise<void> {
  const deadline = Date.now() + FIRST_ANSWER_DEADLINE_MS;
  for (;;) {
    try {
      await get(url, false);
      break;
    } catch (e) {
      if (Date.now() > deadline) {
        process.stdout.write(`${JSON.stringify({ answers: [], errors: 1, error: (e as Error).message })}\n`);
        return;
      }
      await sleep(100);
    }
  }
  const answers: string[] = [];
  let errors = 0;
  for (let i = 0; i < n; i++) {
    try {
      answers.push(await get(url, false));
    } catch {
      errors++;
    }
  }
  process.stdout.write(`${JSON.stringify({ answers, errors })}\n`);
}

function watch(url: string): void {
  let running = true;
  const emit = (k: 'n' | 'e', result: { body: string } | { err: string }): void => {
    process.stdout.write(`${JSON.stringify({ t: Date.now(), k, ok: 'body' in result, ...result })}\n`);
  };
  const once = async (k: 'n' | 'e', agent: Agent | false): Promise<void> => {
    try {
      emit(k, { body: await get(url, agent) });
    } catch (e) {
      emit(k, { err: (e as Error).message });
    }
  };
  const newLoop = async (): Promise<void> => {
    while (running) {
      void once('n', false);
      await sleep(NEW_EVERY_MS);
    }
  };
  const estLoop = async (): Promise<void> => {
    // One socket per agent: a reset shows as an error here, and the agent's next request opens a new one.
    const agent = new Agent({ keepAlive: true, maxSockets: 1 });
    while (running) {
      await once('e', agent);
      await sleep(EST_EVERY_MS);
    }
    agent.destroy();
  };
  void newLoop();
  for (let i = 0; i < ESTABLISHED; i++) void estLoop();
  const stop = (): void => {
    running = false;
    setTimeout(() => process.exit(0), REQUEST_TIMEOUT_MS + 100).unref();
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.stdout.write('listening on watch:0\n');
}

const [mode, url = '', nText = '6'] = process.argv.slice(2);
if (mode === 'who') await who(url, Number(nText));
else if (mode === 'watch') watch(url);
else {
  process.stderr.write('usage: client-probe.js who URL N | watch URL\n');
  process.exitCode = 2;
}
