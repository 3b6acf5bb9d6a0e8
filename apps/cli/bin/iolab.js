#!/usr/bin/env node
// A thin shim so that `npm ci` can link the bin before dist/ exists; the root `prepare` script builds it.
import { existsSync } from 'node:fs';

const entry = new URL('../dist/main.js', import.meta.url);
if (!existsSync(entry)) {
  console.error('iolab: not built yet; run `npm run build` at the repository root');
  process.exit(1);
}
await import(entry.href);
