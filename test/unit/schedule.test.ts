import { describe, expect, it } from 'vitest';
import { MAX_ATTEMPTS, retrySchedule, retryWaitMs, scaledRetryWaitMs } from '../../domain/schedule';

const DAY_MS = 24 * 60 * 60 * 1000;

describe('the retry schedule', () => {
  const schedule = retrySchedule();

  it('allows 26 attempts in all: one first attempt and 25 retries', () => {
    expect(MAX_ATTEMPTS).toBe(26);
    expect(schedule).toHaveLength(26);
    expect(schedule[0]).toEqual({ attempt: 1, waitMs: 0, offsetMs: 0 });
  });

  it('spreads the 25 waits over 29 to 31 days', () => {
    const total = schedule.reduce((sum, row) => sum + row.waitMs, 0);
    expect(total).toBe(schedule[25]!.offsetMs);
    expect(total).toBeGreaterThanOrEqual(29 * DAY_MS);
    expect(total).toBeLessThanOrEqual(31 * DAY_MS);
  });

  it('waits longer before each retry than before the one before it', () => {
    for (let i = 2; i < schedule.length; i++) expect(schedule[i]!.waitMs).toBeGreaterThan(schedule[i - 1]!.waitMs);
  });

  it('is polynomial: 25 s × n³ after failed attempt n', () => {
    expect(retryWaitMs(1)).toBe(25_000);
    expect(retryWaitMs(2)).toBe(200_000);
    expect(retryWaitMs(25)).toBe(25_000 * 25 ** 3);
  });

  it('has no retry after the 26th attempt', () => {
    expect(() => retryWaitMs(26)).toThrow(RangeError);
    expect(() => retryWaitMs(0)).toThrow(RangeError);
  });

  it('scales every wait by DELIVERY_BACKOFF_SCALE, never below 1 ms', () => {
    expect(scaledRetryWaitMs(2, 0.0001)).toBe(20);
    expect(scaledRetryWaitMs(1, 0.000001)).toBe(1);
    const scaledTotal = retrySchedule(0.0001)[25]!.offsetMs;
    expect(scaledTotal).toBeGreaterThan(4 * 60_000);
    expect(scaledTotal).toBeLessThan(5 * 60_000);
  });
});
