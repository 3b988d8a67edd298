import { describe, expect, it } from 'vitest';
import { DEDUPE_WINDOW_EVENTS, SubscriptionState } from '../../workflows/subscription-state';

const event = (id: string) => ({ id, createdAt: '2026-01-01T00:00:00.000Z', type: 't', data: {} });
const input = {
  partnerId: 'p1',
  subscriptionId: 's1',
  createdAt: '2026-01-01T00:00:00.000Z',
  config: { url: 'https://example.com', eventTypes: ['t'], batching: { windowMs: 1_000, maxEvents: 2 } },
};

describe("a subscription's state", () => {
  it('keeps acceptance order and drops an event id it has already accepted', () => {
    const state = new SubscriptionState(input);
    state.accept([event('a'), event('b')]);
    state.accept([event('a'), event('c')]);
    expect(state.pending.map((e) => e.id)).toEqual(['a', 'b', 'c']);
    expect(state.takeBatch(2, 5_000).map((e) => e.id)).toEqual(['a', 'b']);
    state.accept([event('b')]);
    expect(state.pending.map((e) => e.id)).toEqual(['c']);
  });

  it('forgets the oldest ids beyond the dedupe window', () => {
    const state = new SubscriptionState(input);
    for (let i = 0; i <= DEDUPE_WINDOW_EVENTS; i++) state.accept([event(`e${i}`)]);
    state.pending.length = 0;
    state.accept([event(`e${DEDUPE_WINDOW_EVENTS}`), event('e0')]);
    expect(state.pending.map((e) => e.id)).toEqual(['e0']);
  });

  it('wakes the batching loop when events arrive on an empty queue or reach maxEvents, not otherwise', () => {
    const state = new SubscriptionState({ ...input, config: { ...input.config, batching: { windowMs: 1_000, maxEvents: 3 } } });
    state.accept([event('a')]);
    expect(state.wakeups).toBe(1);
    state.accept([event('b')]);
    expect(state.wakeups).toBe(1);
    state.accept([event('c')]);
    expect(state.wakeups).toBe(2);
  });

  it('hands everything but its counters to the next run', () => {
    const state = new SubscriptionState(input);
    state.accept([event('a'), event('b'), event('c')]);
    state.takeBatch(2, 7_000);
    state.configure({ batching: { maxEvents: 9 } }, '2026-01-02T00:00:00.000Z');
    const next = new SubscriptionState(state.carryOver());
    expect(next.pending.map((e) => e.id)).toEqual(['c']);
    expect(next.lastCutAt).toBe(7_000);
    expect(next.config.batching).toEqual({ windowMs: 1_000, maxEvents: 9 });
    expect(next.signalsThisRun).toBe(0);
    next.accept([event('a')]);
    expect(next.pending).toHaveLength(1);
  });
});
