import { describe, expect, it } from 'vitest';
import { judgeAttempt, retryAfterMs } from '../../activities/attempt-outcome';
import { EMPTY_LEDGER, MAX_ATTEMPTS, MAX_RETRY_AFTER_MS, retrySchedule, retryWaitMs, SCHEDULE_BOUND_MS } from '../../domain/schedule';

const response = (status: number) => ({ kind: 'response' as const, status, bodySnippet: 'nope' });

describe('judging one delivery attempt', () => {
  it.each([200, 201, 202, 204, 299])('counts HTTP %i as delivered', (status) => {
    expect(judgeAttempt(response(status), 1, 1)).toEqual({ delivered: true, status });
  });

  it.each([100, 199, 301, 302, 307, 400, 404, 410, 429, 500, 503])('fails the attempt on HTTP %i and retries it', (status) => {
    const verdict = judgeAttempt(response(status), 3, 1);
    expect(verdict).toMatchObject({ delivered: false, nextRetryDelayMs: retryWaitMs(3) });
    if (!verdict.delivered) expect(verdict.detail).toEqual({ attempt: 3, status, bodySnippet: 'nope' });
  });

  it('fails the attempt on a connection or TLS error, recording its code', () => {
    const verdict = judgeAttempt({ kind: 'error', code: 'ECONNRESET', message: 'socket hang up' }, 1, 1);
    expect(verdict).toEqual({
      delivered: false,
      message: 'attempt 1: ECONNRESET: socket hang up',
      detail: { attempt: 1, errorCode: 'ECONNRESET' },
      nextRetryDelayMs: 25_000,
    });
  });

  it('sets no next delay after the 26th attempt', () => {
    expect(judgeAttempt(response(500), 26, 1)).toMatchObject({ delivered: false, nextRetryDelayMs: undefined });
  });

  it('scales the next delay by DELIVERY_BACKOFF_SCALE', () => {
    expect(judgeAttempt(response(500), 2, 0.001)).toMatchObject({ nextRetryDelayMs: 200 });
  });
});

describe('Retry-After', () => {
  const now = Date.parse('2026-11-30T12:00:00.000Z');
  const HOUR = 3_600_000;
  const asking = (status: number, retryAfter: string) => ({ kind: 'response' as const, status, bodySnippet: 'slow down', retryAfter });

  it('reads seconds and HTTP dates, and ignores what is malformed, negative or past', () => {
    expect(retryAfterMs('120', now)).toBe(120_000);
    expect(retryAfterMs(' 0 ', now)).toBe(0);
    expect(retryAfterMs('Mon, 30 Nov 2026 13:00:00 GMT', now)).toBe(HOUR);
    for (const ignored of [undefined, '', '-5', '1.5', '10s', 'soon', 'Mon, 30 Nov 2026 11:00:00 GMT', '2026-11-30T13:00:00Z', 'Mon, 99 Nov 2026 13:00:00 GMT']) {
      expect(retryAfterMs(ignored, now), String(ignored)).toBeUndefined();
    }
  });

  it('delays the next attempt of a 429 or 503 to no sooner than asked, never sooner than the schedule', () => {
    const early = { now, ledger: EMPTY_LEDGER };
    expect(judgeAttempt(asking(429, '3600'), 1, 1, early)).toMatchObject({
      nextRetryDelayMs: HOUR,
      detail: { retryAfterMs: HOUR },
      message: expect.stringContaining('(Retry-After: 3600)') as string,
      ledger: { extraMs: HOUR - retryWaitMs(1), repaidMs: 0 },
    });
    expect(judgeAttempt(asking(503, 'Mon, 30 Nov 2026 13:00:00 GMT'), 1, 1, early)).toMatchObject({ nextRetryDelayMs: HOUR });
    // Asking for less than the schedule's wait changes nothing.
    expect(judgeAttempt(asking(503, '1'), 1, 1, early)).toMatchObject({ nextRetryDelayMs: retryWaitMs(1) });
    // Other statuses, a malformed value, or the last attempt: the schedule, as without the header.
    expect(judgeAttempt(asking(500, '3600'), 1, 1, early)).toMatchObject({ nextRetryDelayMs: retryWaitMs(1) });
    expect(judgeAttempt(asking(429, 'later'), 1, 1, early)).toMatchObject({ nextRetryDelayMs: retryWaitMs(1) });
    expect(judgeAttempt(asking(429, '3600'), MAX_ATTEMPTS, 1, early)).toMatchObject({ nextRetryDelayMs: undefined });
  });

  it('caps an ask at 24 hours, and keeps the schedule while asks stay within its 10.5 hours of slack', () => {
    expect(judgeAttempt(asking(429, String(7 * 24 * 3600)), 1, 1, { now, ledger: EMPTY_LEDGER })).toMatchObject({ nextRetryDelayMs: MAX_RETRY_AFTER_MS });
    // Ten hours of asks so far: later waits are the schedule's.
    expect(judgeAttempt(response(500), 20, 1, { now, ledger: { extraMs: 10 * HOUR, repaidMs: 0 } })).toMatchObject({ nextRetryDelayMs: retryWaitMs(20) });
    // Eleven: the next wait gives back what is beyond the slack.
    const slack = SCHEDULE_BOUND_MS - retrySchedule(1)[MAX_ATTEMPTS - 1]!.offsetMs;
    expect(judgeAttempt(response(500), 20, 1, { now, ledger: { extraMs: 11 * HOUR, repaidMs: 0 } })).toMatchObject({
      nextRetryDelayMs: retryWaitMs(20) - (11 * HOUR - slack),
      ledger: { extraMs: 11 * HOUR, repaidMs: 11 * HOUR - slack },
    });
  });

  it('keeps 26 attempts within 31 days however often the endpoint asks for a day: the last waits shrink', () => {
    let elapsed = 0;
    let ledger = EMPTY_LEDGER;
    const waits: number[] = [];
    for (let attempt = 1; attempt < MAX_ATTEMPTS; attempt++) {
      // The endpoint asks for a day on the first five attempts, then fails without asking.
      const verdict = judgeAttempt(attempt <= 5 ? asking(429, String(24 * 3600)) : response(500), attempt, 1, { now, ledger });
      if (verdict.delivered || verdict.nextRetryDelayMs === undefined) throw new Error('expected a retry');
      ledger = verdict.ledger ?? ledger;
      waits.push(verdict.nextRetryDelayMs);
      elapsed += verdict.nextRetryDelayMs;
    }
    expect(waits).toHaveLength(MAX_ATTEMPTS - 1);
    // The early asks are honoured in full (a day, more than the schedule's waits)...
    expect(waits.slice(0, 5)).toEqual(Array(5).fill(24 * HOUR));
    // ...and the 26th attempt still comes within the bound, every wait at least a minute.
    expect(elapsed).toBeLessThanOrEqual(SCHEDULE_BOUND_MS);
    expect(Math.min(...waits)).toBeGreaterThanOrEqual(60_000);
  });
});

describe('Retry-After asked at every attempt', () => {
  it('never lets 26 attempts run past 31 days, never waits less than asked (up to a day) or a minute', () => {
    for (const ask of [600, 3600, 86_400]) {
      let elapsed = 0;
      let ledger = EMPTY_LEDGER;
      for (let attempt = 1; attempt < MAX_ATTEMPTS; attempt++) {
        const verdict = judgeAttempt({ kind: 'response', status: 503, bodySnippet: '', retryAfter: String(ask) }, attempt, 1, { now: 0, ledger });
        if (verdict.delivered || verdict.nextRetryDelayMs === undefined) throw new Error('expected a retry');
        // Never sooner than asked (the cap: a day), never below a minute.
        expect(verdict.nextRetryDelayMs, `ask ${ask}, attempt ${attempt}`).toBeGreaterThanOrEqual(Math.min(ask * 1000, MAX_RETRY_AFTER_MS));
        expect(verdict.nextRetryDelayMs).toBeGreaterThanOrEqual(60_000);
        ledger = verdict.ledger ?? ledger;
        elapsed += verdict.nextRetryDelayMs;
      }
      expect(elapsed, `ask ${ask}`).toBeLessThanOrEqual(SCHEDULE_BOUND_MS);
    }
  });
});
