// Bundles each thread entry into one file, one per socket mode: a new BIO thread then loads one module
// with only its mode's code, instead of resolving @iolab/protocols' and @iolab/server-core's module
// graphs, which cost more than the empty thread itself. Start-up is what BIO pays per new thread
// (apps/throughput/bench/thread-startup.ts measures it against an empty worker).
//
// CommonJS, not ESM: the thread then skips the ES module loader's compile, link and builtin facades.
// Measured on Node 26 (CPU time per thread start, 20 starts × 5 interleaved runs, medians, twice):
// the ESM bundle cost 4.3–5.0 ms over an empty ES-module worker, the same bundle as CommonJS 1.1–2.2 ms.
import { build } from 'esbuild';

/**
 * `node:crypto` is needed only by `/cpu` (SHA-256), yet loading it is ~3 ms of a new thread's ~17 ms on
 * Node 26 (measured: an empty worker vs one that imports it). This stands in for the module and loads
 * the real one on the first hash.
 */
const lazyCrypto = {
  name: 'lazy-node-crypto',
  setup(b) {
    // The stand-in's own require() is the real module, left to Node.
    b.onResolve({ filter: /^node:crypto$/ }, (args) =>
      args.namespace === 'lazy-builtin'
        ? { path: 'node:crypto', external: true }
        : { path: 'node:crypto', namespace: 'lazy-builtin' },
    );
    b.onLoad({ filter: /.*/, namespace: 'lazy-builtin' }, () => ({
      contents: `
        let crypto;
        export const createHash = (...args) => (crypto ??= require('node:crypto')).createHash(...args);
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
  outExtension: { '.js': '.cjs' }, // this package is "type": "module"
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  // Less to scan and compile on every thread start; names kept for stack traces in failure logs.
  minifyWhitespace: true,
  minifySyntax: true,
  plugins: [lazyCrypto],
  logLevel: 'warning',
});
