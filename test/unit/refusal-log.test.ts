import { describe, expect, it } from 'vitest';
import { RefusalLog } from '../../api/ingest/refusal-log';

/** Requests refused for load are logged at most once a second, with how many there were. */
describe('the log of requests refused for load', () => {
  it('writes the first refusal at once, then one line per interval counting those in between', () => {
    let now = 10_000;
    const lines: Record<string, unknown>[] = [];
    const log = new RefusalLog((fields) => lines.push(fields), 1_000, () => now);
    log.note({ path: '/a' });
    expect(lines).toEqual([{ refused: 1, last: { path: '/a' } }]);
    for (const path of ['/b', '/c', '/d']) {
      now += 200;
      log.note({ path });
    }
    expect(lines).toHaveLength(1);
    now += 400; // 1,000 ms after the first line
    log.note({ path: '/e' });
    expect(lines).toEqual([
      { refused: 1, last: { path: '/a' } },
      { refused: 4, last: { path: '/e' } },
    ]);
  });
});
