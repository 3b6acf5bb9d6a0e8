import { describe, expect, it } from 'vitest';
import { compareRuns, flippedVerdicts } from './results-history.js';
import { sampleResults } from './test-results-fixture.js';

const v = (winner: string | null, runnerUp: string, significant: boolean, connections = 100) => ({
  experiment: 'throughput',
  workload: '/plaintext',
  connections,
  winner,
  runnerUp,
  ratio: 1.3,
  ci95: (significant ? [1.1, 1.5] : [0.9, 1.5]) as [number, number],
  significant,
});

describe('flipped verdicts', () => {
  it('flags a comparison significant in both runs whose winner changed', () => {
    const before = sampleResults({ verdicts: [v('loop', 'bio', true), v('bio', 'loop', true, 1)] });
    const now = sampleResults({ verdicts: [v('bio', 'loop', true), v('bio', 'loop', true, 1)] });
    expect(flippedVerdicts(before, now)).toEqual([
      {
        experiment: 'throughput',
        workload: '/plaintext',
        connections: 100,
        previousWinner: 'loop',
        currentWinner: 'bio',
      },
    ]);
    expect(compareRuns(before, now).flippedVerdicts).toHaveLength(1);
  });

  it('does not call a tie, or a verdict new in this run, a flip', () => {
    const before = sampleResults({ verdicts: [v(null, 'bio', false)] });
    const now = sampleResults({ verdicts: [v('bio', 'loop', true), v('loop', 'bio', true, 1)] });
    expect(flippedVerdicts(before, now)).toEqual([]);
  });

  it('reads a previous results.json written before verdicts existed', () => {
    const { verdicts: _none, ...old } = sampleResults();
    expect(
      flippedVerdicts(
        old as ReturnType<typeof sampleResults>,
        sampleResults({ verdicts: [v('a', 'b', true)] }),
      ),
    ).toEqual([]);
  });

  it('tells apart several comparisons sharing a group (the balancer against each peer)', () => {
    const b = (winner: string, runnerUp: string) => ({
      ...v(winner, runnerUp, true, 64),
      experiment: 'balancer',
    });
    const before = sampleResults({
      verdicts: [b('HAProxy', 'iolab balance'), b('iolab balance', 'naive pipe proxy')],
    });
    const same = sampleResults({
      verdicts: [b('HAProxy', 'iolab balance'), b('iolab balance', 'naive pipe proxy')],
    });
    expect(flippedVerdicts(before, same)).toEqual([]);
    const flipped = sampleResults({
      verdicts: [b('iolab balance', 'HAProxy'), b('iolab balance', 'naive pipe proxy')],
    });
    expect(flippedVerdicts(before, flipped)).toEqual([
      {
        experiment: 'balancer',
        workload: '/plaintext',
        connections: 64,
        previousWinner: 'HAProxy',
        currentWinner: 'iolab balance',
      },
    ]);
  });
});
