export async function runBalance(_args: string[]): Promise<void> {
  process.stderr.write('iolab balance: not implemented yet\n');
  process.exitCode = 1;
}
