import { describe, expect, it } from 'vitest';
import { decideBatch } from '../../domain/batching';

const base = { lastCutAt: 10_000, windowMs: 1_000, maxEvents: 3, fitCount: Number.MAX_SAFE_INTEGER };

describe('the batching rule', () => {
  it('never cuts an empty batch, and needs no timer while nothing is pending', () => {
    expect(decideBatch({ ...base, pendingCount: 0, now: 99_999 })).toEqual({ cut: false, waitMs: null });
  });

  it('cuts as soon as the pending events reach maxEvents, before the window ends', () => {
    expect(decideBatch({ ...base, pendingCount: 3, now: 10_001 })).toEqual({ cut: true, size: 3, reason: 'count' });
  });

  it('cuts no more than maxEvents at a time when more are pending', () => {
    expect(decideBatch({ ...base, pendingCount: 7, now: 10_001 })).toEqual({ cut: true, size: 3, reason: 'count' });
  });

  it('waits for the rest of the window counted from the last batch', () => {
    expect(decideBatch({ ...base, pendingCount: 1, now: 10_400 })).toEqual({ cut: false, waitMs: 600 });
  });

  it('cuts every pending event once windowMs has passed since the last batch was created', () => {
    expect(decideBatch({ ...base, pendingCount: 2, now: 11_000 })).toEqual({ cut: true, size: 2, reason: 'window' });
  });

  it('cuts at once an event that arrives long after the last batch', () => {
    expect(decideBatch({ ...base, pendingCount: 1, now: 50_000 })).toEqual({ cut: true, size: 1, reason: 'window' });
  });

  it('cuts early, with the events that fit, before a payload would pass the byte limit', () => {
    expect(decideBatch({ ...base, pendingCount: 2, fitCount: 1, now: 10_001 })).toEqual({ cut: true, size: 1, reason: 'bytes' });
    expect(decideBatch({ ...base, pendingCount: 5, fitCount: 2, now: 10_001 })).toEqual({ cut: true, size: 2, reason: 'bytes' });
  });

  it('waits for the window when every pending event fits', () => {
    expect(decideBatch({ ...base, pendingCount: 2, fitCount: 2, now: 10_500 })).toEqual({ cut: false, waitMs: 500 });
  });
});
