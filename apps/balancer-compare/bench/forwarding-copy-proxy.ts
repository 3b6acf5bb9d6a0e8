/**
 * Child of `forwarding-copy.ts`: one proxy variant in front of 127.0.0.1:<backendPort>, prints its port.
 *   balancer  — createBalancer (manual data/drain copy loop, half-close, counters, events)
 *   pipe      — client.pipe(backend).pipe(client), the classic naive proxy
 *   pipeline  — stream.pipeline(client, backend, client)
 */
import { connect, createServer, type Socket } from 'node:net';
import { pipeline } from 'node:stream';
import { createBalancer } from '@iolab/balancer';

const [variant = 'balancer', backendPortText = '0'] = process.argv.slice(2);
const backendPort = Number(backendPortText);

if (variant === 'balancer') {
  const lb = createBalancer({
    listeners: [{ port: 0, pool: 'p' }],
    pools: [{ name: 'p', health: { enabled: false }, backends: [{ host: '127.0.0.1', port: backendPort }] }],
  });
  const { addresses } = await lb.start();
  process.stdout.write(`listening on 127.0.0.1:${addresses[0]?.port}\n`);
} else {
  const server = createServer((client: Socket) => {
    const backend = connect({ host: '127.0.0.1', port: backendPort });
    client.setNoDelay(true);
    backend.setNoDelay(true);
    if (variant === 'pipe') {
      client.on('error', () => backend.destroy());
      backend.on('error', () => client.destroy());
      client.pipe(backend).pipe(client);
    } else {
      pipeline(client, backend, client, () => {});
    }
  });
  server.listen(0, '127.0.0.1', () =>
    process.stdout.write(`listening on 127.0.0.1:${(server.address() as { port: number }).port}\n`),
  );
}
process.on('SIGTERM', () => process.exit(0));
