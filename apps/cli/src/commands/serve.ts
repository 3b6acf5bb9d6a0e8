export async function runServe(_args: string[]): Promise<void> {
  process.stderr.write('iolab serve: not implemented yet\n');
  process.exitCode = 1;
}
