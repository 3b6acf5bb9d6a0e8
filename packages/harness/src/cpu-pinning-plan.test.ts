import { spawn } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { until } from '@iolab/testkit';
import { afterEach, describe, expect, it } from 'vitest';
import { findExecutable } from './command-line.js';
import { isPinnedTo, pinPrefix, planCores } from './cpu-pinning.js';

describe('planCores', () => {
  it('puts the server on the last core and the generator on core 0', () => {
    expect(planCores(4, true)).toMatchObject({ serverCpu: 3, loadgenCpu: 0 });
  });

  it('pins nothing on one core or without taskset, and says why', () => {
    expect(planCores(1, true)).toMatchObject({ serverCpu: undefined, loadgenCpu: undefined });
    expect(planCores(1, true).note).toContain('one core');
    expect(planCores(8, false).note).toContain('taskset');
  });
});

const children: ReturnType<typeof spawn>[] = [];
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL');
});

describe('pinPrefix', () => {
  it('is empty without a CPU or for a CPU this machine does not have', () => {
    expect(pinPrefix(undefined)).toEqual([]);
    expect(pinPrefix(availableParallelism())).toEqual([]);
  });

  it.skipIf(process.platform !== 'linux' || !findExecutable('taskset'))(
    'pins a real child: the kernel reports exactly that CPU',
    async () => {
      const cpu = availableParallelism() - 1;
      const argv = [...pinPrefix(cpu), 'sleep', '30'];
      const child = spawn(argv[0] as string, argv.slice(1), { stdio: 'ignore' });
      children.push(child);
      // taskset execs sleep in the same pid once the affinity is set; wait for that moment.
      await until(() => isPinnedTo(child.pid as number, cpu), `pid ${child.pid} pinned to CPU ${cpu}`);
      expect(isPinnedTo(child.pid as number, cpu)).toBe(true);
    },
  );
});
