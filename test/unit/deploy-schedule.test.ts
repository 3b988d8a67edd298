import { describe, expect, it } from 'vitest';
import { scheduleProblems } from '../../chaos/deploy';
import type { LoggedRequest } from '../../chaos/cluster';
import { retrySchedule } from '../../domain/schedule';

/** The deploy drill's schedule check (chaos/deploy.ts): attempts upwards, none before its wait. */
describe("the deploy drill's retry schedule check", () => {
  const scale = 0.0001;
  const schedule = retrySchedule(scale);
  const request = (batchId: string, attempt: number, receivedAt: number, path = '/hook/chaos-dead'): LoggedRequest => ({
    body: JSON.stringify({ batch_id: batchId }),
    path,
    accepted: false,
    receivedAt,
    attempt,
  });
  /** Attempts `numbers` of one batch, each at its scheduled offset plus `lateMs`. */
  const onTime = (batchId: string, numbers: number[], lateMs = 3) => numbers.map((n) => request(batchId, n, 1_000 + schedule[n - 1]!.offsetMs + lateMs * n));

  it('passes attempts that keep their waits, also with one missing (cut off by a stopping worker)', () => {
    expect(scheduleProblems([...onTime('a', [1, 2, 3, 4]), ...onTime('b', [1, 2, 4, 5])], scale, [])).toEqual([]);
  });

  it('names an attempt that came before its wait, one out of order, and a batch that did not start at 1', () => {
    const early = onTime('a', [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    early[9] = request('a', 10, early[8]!.receivedAt + 1);
    const problems = scheduleProblems([...early, ...onTime('b', [1, 3, 2]), ...onTime('c', [2, 3])], scale, []);
    expect(problems).toHaveLength(3);
    expect(problems[0]).toMatch(/^batch a: attempt 10 came 1 ms after attempt 9, before its wait of \d+ ms$/);
    expect(problems[1]).toBe('batch b: attempt 2 came after attempt 3');
    expect(problems[2]).toBe('batch c: its first request says attempt 2');
  });

  it('leaves out the paths whose batches were redelivered on purpose', () => {
    const redelivered = [request('r', 1, 1_000, '/hook/chaos-recovery'), request('r', 2, 1_001, '/hook/chaos-recovery'), request('r', 1, 1_002, '/hook/chaos-recovery')];
    expect(scheduleProblems(redelivered, scale, ['/hook/chaos-recovery'])).toEqual([]);
    expect(scheduleProblems(redelivered, scale, []).length).toBeGreaterThan(0);
  });
});
