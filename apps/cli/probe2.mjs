import { Worker } from 'node:worker_threads';
for (const spec of ['node:fs', '@iolab/framing', '@iolab/protocols', '@iolab/server-core']) {
  const t0 = performance.now();
  const w = new Worker(`import(${JSON.stringify(spec)}).then(() => require('node:worker_threads').parentPort.postMessage(1))`, { eval: true });
  await new Promise((r) => w.once('message', r));
  console.log(spec, (performance.now() - t0).toFixed(0), 'ms');
  await w.terminate();
}
