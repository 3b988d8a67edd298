import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DEDUPE_WINDOW_EVENTS, SubscriptionState } from '../../workflows/subscription-state';

const event = (id: string) => ({ id, createdAt: '2026-01-01T00:00:00.000Z', type: 't', data: {} });
const pendingIds = (state: SubscriptionState) => state.carryOver().carried!.pending.map((e) => e.id);
const loop = { now: 0, childStartsInFlight: false, childStartsJustSettled: false, dueToContinue: false, limitsCarry: () => true, limitsTask: () => true };
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
    expect(pendingIds(state)).toEqual(['a', 'b', 'c']);
    expect(state.takeBatch(2, 5_000).map((e) => e.id)).toEqual(['a', 'b']);
    state.accept([event('b')]);
    expect(pendingIds(state)).toEqual(['c']);
  });

  it('forgets the oldest ids beyond the dedupe window', () => {
    const state = new SubscriptionState(input);
    for (let i = 0; i <= DEDUPE_WINDOW_EVENTS; i++) state.accept([event(`e${i}`)]);
    state.takeBatch(state.pendingCount, 1_000);
    state.accept([event(`e${DEDUPE_WINDOW_EVENTS}`), event('e0')]);
    expect(pendingIds(state)).toEqual(['e0']);
  });

  it('carries the dedupe window to the next run as digests, about 11 bytes an id, and reads the ids older runs carried', () => {
    const ids = Array.from({ length: DEDUPE_WINDOW_EVENTS }, () => randomUUID());
    const state = new SubscriptionState(input);
    for (const id of ids) state.accept([event(id)]);
    state.takeBatch(state.pendingCount, 1_000);
    const carried = state.carryOver();
    expect(carried.carried!.recentEventIds).toBeUndefined();
    expect(carried.carried!.recentEventDigests!.length).toBe(11 * DEDUPE_WINDOW_EVENTS);
    expect(JSON.stringify(carried).length).toBeLessThan(120_000);
    // (cloned: between runs the input goes through Temporal, never shared)
    const next = new SubscriptionState(structuredClone(carried));
    next.accept([event(ids[0]!), event(ids[DEDUPE_WINDOW_EVENTS - 1]!), event('new')]);
    expect(pendingIds(next)).toEqual(['new']);
    // A run carried over by code before digests: its ids are still recognised, and carried on as digests.
    const older = new SubscriptionState({ ...input, carried: { ...structuredClone(carried.carried!), recentEventDigests: undefined, recentEventIds: ['old-1', 'old-2'] } });
    older.accept([event('old-2'), event('fresh')]);
    expect(pendingIds(older)).toEqual(['fresh']);
    const after = new SubscriptionState(structuredClone(older.carryOver()));
    after.accept([event('old-1'), event('fresh'), event('other')]);
    expect(pendingIds(after)).toEqual(['fresh', 'other']);
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
    expect(pendingIds(next)).toEqual(['c']);
    expect(next.carryOver().carried).toMatchObject({ lastCutAt: 7_000, batchesCut: 1 });
    expect(next.view().batching).toEqual({ windowMs: 1_000, maxEvents: 9 });
    // The run's counters start again: a new run is not due to continue by the old run's signals.
    const busy = new SubscriptionState({ ...input, limits: { signals: 2 } });
    busy.accept([event('x')]);
    busy.accept([event('y')]);
    expect(busy.shouldContinueAsNew(0, false)).toBe(true);
    expect(new SubscriptionState(busy.carryOver()).shouldContinueAsNew(0, false)).toBe(false);
    next.accept([event('a')]);
    expect(next.pendingCount).toBe(1);
  });

  it('hands over at shorterRunEvents only where the run may (its patch), and asks only once the run is that long', () => {
    const state = new SubscriptionState({ ...input, limits: { shorterRunEvents: 100, historyEvents: 1_000 } });
    const asked: number[] = [];
    const may = (answer: boolean) => () => (asked.push(1), answer);
    expect(state.shouldContinueAsNew(99, false, 0, may(true))).toBe(false);
    expect(asked).toHaveLength(0);
    expect(state.shouldContinueAsNew(100, false, 0, may(true))).toBe(true);
    // A run recorded before the patch: it goes on to historyEvents.
    expect(state.shouldContinueAsNew(500, false, 0, may(false))).toBe(false);
    expect(state.shouldContinueAsNew(1_000, false, 0, may(false))).toBe(true);
    expect(asked).toHaveLength(2);
    expect(new SubscriptionState(input).shouldContinueAsNew(1_999, false, 0, () => true)).toBe(false);
    expect(new SubscriptionState(input).shouldContinueAsNew(2_000, false, 0, () => true)).toBe(true);
  });
});

describe("a subscription's endpoint gate, through its state", () => {
  const report = (batchId: string, outcome: 'failing' | 'exhausted' | 'recovered') => ({ batchId, outcome, at: '2026-01-02T00:00:00.000Z' });

  it('wakes the main loop when a report leaves batches to release, and not otherwise', () => {
    const state = new SubscriptionState(input);
    expect(state.reportEndpoint(report('b1', 'failing'))).toBe(true);
    expect(state.wakeups).toBe(0);
    state.gate.noteHeld('b2');
    expect(state.reportEndpoint(report('b1', 'recovered'))).toBe(true);
    expect(state.wakeups).toBe(1);
    expect(state.nextStep(loop)).toEqual({ kind: 'release' });
    expect(state.gate.takeReleases(10)).toEqual(['b2']);
    expect(state.nextStep(loop)).toEqual({ kind: 'wait', waitMs: null });
  });

  it('carries the gate across continue-as-new and releases held batches when deleted', () => {
    const state = new SubscriptionState(input);
    state.reportEndpoint(report('b1', 'failing'));
    state.gate.noteHeld('b2');
    const next = new SubscriptionState(state.carryOver());
    expect(next.view().endpointHealth).toMatchObject({ probeBatchId: 'b1', heldBatches: 1 });
    expect(next.gate.holdsNextBatch(next.isDeleting)).toBe(true);
    next.markDeleting();
    expect(next.gate.holdsNextBatch(next.isDeleting)).toBe(false);
    expect(next.gate.takeReleases(10)).toEqual(['b2']);
  });
});
