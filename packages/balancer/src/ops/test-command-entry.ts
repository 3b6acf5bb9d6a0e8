// Test support (excluded from the build): the command from source, as bin/iolab-balancer.js runs it from dist.
import { runBalance } from './command.js';

await runBalance(process.argv.slice(2));
