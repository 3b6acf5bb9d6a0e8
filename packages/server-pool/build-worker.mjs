// Bundles the thread entry into one file: a new pool thread then loads one module instead of resolving
// @iolab/protocols' and @iolab/server-core's module graphs, which cost more than the empty thread itself.
import { build } from 'esbuild';

await build({
  entryPoints: ['dist/pool-worker.js'],
  outfile: 'dist/pool-worker.bundle.js',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  logLevel: 'warning',
});
