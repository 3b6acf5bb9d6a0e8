/**
 * Child-process entry for tests that need the balancer's own RSS or fd budget: runs the config given as
 * argv[2], prints `{"ready":port}` then `{"rss":bytes}` every 100 ms, exits on SIGTERM.
 */
import { createBalancer } from './balancer.js';
import type { BalancerConfig } from './config.js';

const config = JSON.parse(process.argv[2] ?? '{}') as BalancerConfig;
const lb = createBalancer(config);
// Events a parent test asserts on, as JSON lines next to the RSS samples.
lb.on('accept-error', (e) => process.stdout.write(`${JSON.stringify({ event: 'accept-error', ...e })}\n`));
let ends = 0;
const reasons: Record<string, number> = {};
lb.on('connection-end', (e) => {
  ends += 1;
  reasons[e.reason] = (reasons[e.reason] ?? 0) + 1;
});
const { addresses } = await lb.start();
process.stdout.write(`${JSON.stringify({ ready: addresses[0]!.port })}\n`);
let lastRss = 0;
const t = setInterval(() => {
  try {
    lastRss = process.memoryUsage.rss(); // reads /proc: fails with EMFILE when fds run out
  } catch {}
  process.stdout.write(`${JSON.stringify({ rss: lastRss, ends, reasons })}\n`);
}, 100);
process.on('SIGTERM', () => {
  clearInterval(t);
  void lb.close(0).then(() => process.exit(0));
});
