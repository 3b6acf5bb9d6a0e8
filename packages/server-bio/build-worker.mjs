// Bundles each thread entry into one file, one per socket mode: a new BIO thread then loads one module
// with only its mode's code, instead of resolving @iolab/protocols' and @iolab/server-core's module
// graphs, which cost more than the empty thread itself. Start-up is what BIO pays per new thread
// (apps/throughput/bench/thread-startup.ts measures it against an empty worker).
import { build } from 'esbuild';

/**
 * `node:crypto` is needed only by `/cpu` (SHA-256), yet loading it is ~3 ms of a new thread's ~17 ms on
 * Node 26 (measured: an empty worker vs one that imports it). This stands in for the module and loads
 * the real one on the first hash.
 */
const lazyCrypto = {
  name: 'lazy-node-crypto',
  setup(b) {
    b.onResolve({ filter: /^node:crypto$/ }, () => ({ path: 'node:crypto', namespace: 'lazy-builtin' }));
    b.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, () => ({
      contents: `
        import { createRequire } from 'node:module';
        let crypto;
        const load = () => (crypto ??= createRequire(import.meta.url)('node:crypto'));
        export const createHash = (...args) => load().createHash(...args);
      `,
      loader: 'js',
      resolveDir: '.',
    }));
  },
};

await build({
  entryPoints: {
    'bio-owned-worker.bundle': 'dist/bio-owned-worker.js',
    'bio-relay-worker.bundle': 'dist/bio-relay-worker.js',
  },
  outdir: 'dist',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  // Less to scan and compile on every thread start; names kept for stack traces in failure logs.
  minifyWhitespace: true,
  minifySyntax: true,
  plugins: [lazyCrypto],
  logLevel: 'warning',
});
