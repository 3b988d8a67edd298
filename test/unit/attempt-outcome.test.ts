import { describe, expect, it } from 'vitest';
import { judgeAttempt } from '../../activities/attempt-outcome';
import { retryWaitMs } from '../../domain/schedule';

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
