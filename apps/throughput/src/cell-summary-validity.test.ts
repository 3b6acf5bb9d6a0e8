import { describe, expect, it } from 'vitest';
import { summarise } from './cell-summary.js';
import type { RepetitionResult, ServerUse } from './load-job.js';

const server = (cpuPercent: number, rssBytes = 64 * 2 ** 20, threads = 11): ServerUse => ({
  cpuPercent,
  rssBytes,
  threads,
  voluntaryCtxSwitches: 1000,
  nonvoluntaryCtxSwitches: 10,
  alive: true,
});

function rep(
  rps: number,
  loadgenCpu: number,
  serverCpu: number,
  extra: Partial<RepetitionResult> = {},
): RepetitionResult {
  return {
    requests: rps * 2,
    requestsPerSec: rps,
    p50Ms: 1,
    p99Ms: 5,
    p999Ms: 9,
    errors: 0,
    timeouts: 0,
    refusals: 0,
    loadgenCpuPercent: loadgenCpu,
    loadgenSaturated: loadgenCpu >= 90,
    server: server(serverCpu),
    ...extra,
  };
}

describe('summarise', () => {
  it('marks a cell invalid when the generator, not the server, ran out of CPU', () => {
    const summary = summarise([rep(10_000, 97, 55), rep(10_500, 95, 60), rep(9_800, 96, 58)], 2, 1);
    expect(summary.valid).toBe(false);
    expect(summary.invalidReason).toMatch(/generator at 96% .* server used 58% of 1/);
    expect(summary.requestsPerSec.median).toBe(10_000);
  });

  it('keeps a cell valid when both were saturated: the server is the limit too', () => {
    expect(summarise([rep(10_000, 95, 99), rep(10_000, 95, 98)], 2, 1).valid).toBe(true);
  });

  it('scales server saturation by the cores the server may use', () => {
    // 120% of two cores is not saturated; of one core it would be.
    expect(summarise([rep(8_000, 95, 120)], 2, 2).valid).toBe(false);
    expect(summarise([rep(8_000, 95, 120)], 2, 1).valid).toBe(true);
  });

  it('totals errors and refusals, takes peak RSS and threads, and context switches per request', () => {
    const summary = summarise(
      [
        rep(100, 10, 50, { errors: 2, refusals: 5, server: server(50, 200 * 2 ** 20, 30) }),
        rep(100, 10, 50, { errors: 1, refusals: 0, server: server(50, 100 * 2 ** 20, 12) }),
      ],
      2,
      1,
    );
    expect(summary.errors).toBe(3);
    expect(summary.refusals).toBe(5);
    expect(summary.serverRssMiB).toBe(200);
    expect(summary.serverThreads).toBe(30);
    expect(summary.ctxSwitchesPerRequest).toBeCloseTo(2020 / 400);
    expect(summary.serverAliveAtEnd).toBe(true);
  });
});

describe('cell status', () => {
  it('is failed when nothing answered, with the cause counted', () => {
    const s = summarise([rep(0, 10, 5, { requests: 0, errors: 200, timeouts: 3 })], 2, 1);
    expect(s.status).toBe('failed');
    expect(s.statusReason).toBe('nothing answered (200 errors, 3 timeouts, 0 refusals)');
  });

  it('is failed when errors exceed 1 % of attempts, ok just below', () => {
    // 1,000 answered + 11 errors: 1.09 % failed.
    expect(summarise([rep(500, 10, 95, { requests: 1000, errors: 11 })], 2, 1).status).toBe('failed');
    // 1,000 answered + 10 errors: 0.99 %.
    expect(summarise([rep(500, 10, 95, { requests: 1000, errors: 10 })], 2, 1).status).toBe('ok');
  });

  it('is invalid when the generator was the ceiling, and failed wins over invalid', () => {
    expect(summarise([rep(10_000, 99, 40)], 2, 1).status).toBe('invalid');
    expect(summarise([rep(10_000, 99, 40, { requests: 0, errors: 5 })], 2, 1).status).toBe('failed');
  });
});
