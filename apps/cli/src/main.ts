// Entry point of the `iolab` command: one file per subcommand under commands/.
const USAGE = `usage: iolab <command> [options]

commands:
  serve <bio|pool|loop|node-http>   run a server model (iolab serve --help)
  balance                           run the layer-4 balancer (iolab balance --help)
  lab <up|down|status>              the network-namespace lab (iolab lab --help; needs root)

options:
  -h, --help                        this help
  -v, --version                     print the version
`;

const [command, ...rest] = process.argv.slice(2);
switch (command) {
  case 'serve': {
    const { runServe } = await import('./commands/serve.js');
    await runServe(rest);
    break;
  }
  case 'balance': {
    // One implementation, two entry points: `iolab balance` here and the `iolab-balancer` bin of @iolab/balancer.
    const { runBalance } = await import('@iolab/balancer/ops');
    await runBalance(rest, 'iolab balance');
    break;
  }
  case '-v':
  case '--version': {
    const { readFileSync } = await import('node:fs');
    // dist/main.js and src/main.ts both sit one level below the package root.
    const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
      version: string;
    };
    process.stdout.write(`iolab ${pkg.version}\n`);
    break;
  }
  case 'lab': {
    const { runLab } = await import('./commands/lab.js');
    await runLab(rest);
    break;
  }
  case undefined:
  case '-h':
  case '--help':
    process.stdout.write(USAGE);
    break;
  default:
    process.stderr.write(`iolab: unknown command '${command}'\n${USAGE}`);
    process.exitCode = 2;
}
