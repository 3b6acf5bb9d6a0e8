import { describe, expect, it } from 'vitest';
import { lastStats } from './server-process.js';

describe('lastStats', () => {
  it('reads the last JSON stats line of a server stderr, skipping other lines', () => {
    const stderr = [
      'iolab serve: listening',
      '{"connections":3,"requests":10,"refused":0}',
      'iolab serve: SIGTERM, draining (up to 1000 ms)',
      'stats {"connections":0,"peakConnections":300,"threadsPeak":257,"requests":9000,"errors":1,"refused":43,"rssBytes":1048576}',
      '',
    ].join('\n');
    expect(lastStats(stderr)).toEqual({
      requests: 9000,
      errors: 1,
      refused: 43,
      peakConnections: 300,
      threadsPeak: 257,
      rssBytes: 1048576,
    });
  });

  it('returns undefined when the server printed no stats', () => {
    expect(lastStats('boom {not json\nplain text')).toBeUndefined();
  });
});
