import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Building a lab of namespaces and starting daemons in it takes seconds, many more on a loaded 2-core CI
    // machine; the default 10 s hook timeout would turn slowness into a skipped suite.
    hookTimeout: 60_000,
    // Lab suites create namespaces and daemons: one file at a time keeps the machine's load, and timing, sane.
    fileParallelism: false,
  },
});
