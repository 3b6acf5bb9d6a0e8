#!/usr/bin/env node
// The `iolab-balancer` command: the same code as `iolab balance` (src/ops/command.ts).
import { runBalance } from '../dist/ops/index.js';

await runBalance(process.argv.slice(2));
