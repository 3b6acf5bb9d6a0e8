import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // Socket tests wait on real timers (health intervals, timeouts); on a shared 2-core machine the default
    // 5 s can run out under load without anything being wrong. Each test bounds its own waits.
    testTimeout: 20_000,
    hookTimeout: 20_000,
  },
});
