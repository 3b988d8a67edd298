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

describe("a subscription's endpoint gate", () => {
  const report = (batchId: string, outcome: 'failing' | 'exhausted' | 'recovered') => ({ batchId, outcome, at: '2026-01-02T00:00:00.000Z' });

  it('holds batches once a batch reports failing, and releases them in order when one gets through', () => {
    const state = new SubscriptionState(input);
    expect(state.holdsNextBatch()).toBe(false);
    expect(state.reportEndpoint(report('b1', 'failing'))).toBe(true);
    expect(state.reportEndpoint(report('b2', 'failing'))).toBe(false); // one probe at a time
    expect(state.holdsNextBatch()).toBe(true);
    state.noteHeld('b3');
    state.noteHeld('b4');
    expect(state.view().endpointHealth).toMatchObject({ probeBatchId: 'b1', heldBatches: 2 });
    expect(state.reportEndpoint(report('b2', 'recovered'))).toBe(true);
    expect(state.gate.toRelease).toEqual(['b3', 'b4']);
    expect(state.holdsNextBatch()).toBe(false);
    expect(state.view().endpointHealth).toMatchObject({ failingSince: null, probeBatchId: null });
  });

  it('disables itself when the probe is exhausted, and the oldest held batch probes next', () => {
    const state = new SubscriptionState(input);
    state.reportEndpoint(report('b1', 'failing'));
    state.noteHeld('b2');
    state.noteHeld('b3');
    expect(state.reportEndpoint(report('b9', 'exhausted'))).toBe(false); // not the probe
    expect(state.reportEndpoint(report('b1', 'exhausted'))).toBe(true);
    expect(state.view()).toMatchObject({ enabled: false, endpointHealth: { probeBatchId: 'b2' } });
    expect(state.gate.toRelease).toEqual(['b2']);
    expect(state.gate.held).toEqual(['b3']);
    // A success of the new probe ends the automatic disabling.
    state.reportEndpoint(report('b2', 'recovered'));
    expect(state.view().enabled).toBe(true);
    expect(state.gate.toRelease).toEqual(['b2', 'b3']);
  });

  it('after an exhausted probe with nothing held, the next batch cut probes instead of waiting', () => {
    const state = new SubscriptionState(input);
    state.reportEndpoint(report('b1', 'failing'));
    state.reportEndpoint(report('b1', 'exhausted'));
    expect(state.holdsNextBatch()).toBe(false);
    state.noteProbe('b2');
    expect(state.gate.probeBatchId).toBe('b2');
    expect(state.holdsNextBatch()).toBe(true);
  });

  it('a PATCH disabling it keeps it disabled through a recovery; enabled: true or a new url reopens the gate', () => {
    const state = new SubscriptionState(input);
    state.configure({ enabled: false }, '2026-01-02T00:00:00.000Z');
    state.reportEndpoint(report('b1', 'failing'));
    state.noteHeld('b2');
    state.reportEndpoint(report('b1', 'recovered'));
    expect(state.view()).toMatchObject({ enabled: false, endpointHealth: { disabledReason: 'disabled through the API' } });
    state.reportEndpoint(report('b3', 'failing'));
    state.noteHeld('b4');
    state.configure({ url: 'https://example.org/new' }, '2026-01-02T00:00:01.000Z');
    expect(state.gate.toRelease).toEqual(['b2', 'b4']);
    expect(state.view().enabled).toBe(false);
    state.configure({ enabled: true }, '2026-01-02T00:00:02.000Z');
    expect(state.view()).toMatchObject({ enabled: true, endpointHealth: { disabledReason: null } });
  });

  it('carries the gate across continue-as-new and releases held batches when deleted', () => {
    const state = new SubscriptionState(input);
    state.reportEndpoint(report('b1', 'failing'));
    state.noteHeld('b2');
    const next = new SubscriptionState(state.carryOver());
    expect(next.view().endpointHealth).toMatchObject({ probeBatchId: 'b1', heldBatches: 1 });
    next.markDeleting();
    expect(next.gate.toRelease).toEqual(['b2']);
  });
});

describe("a subscription's endpoint gate, edge cases", () => {
  const report = (batchId: string, outcome: 'failing' | 'exhausted' | 'recovered', at = '2026-01-02T00:00:00.000Z') => ({ batchId, outcome, at });

  it('ignores a failing report from an attempt that started before the gate last reopened', () => {
    const state = new SubscriptionState(input);
    state.reportEndpoint(report('b1', 'failing', '2026-01-02T00:00:00.000Z'));
    state.reportEndpoint(report('b1', 'recovered', '2026-01-02T00:10:00.000Z'));
    expect(state.reportEndpoint(report('b2', 'failing', '2026-01-02T00:09:00.000Z'))).toBe(false);
    expect(state.holdsNextBatch()).toBe(false);
    expect(state.reportEndpoint(report('b3', 'failing', '2026-01-02T00:11:00.000Z'))).toBe(true);
  });

  it('forgets a held batch that ended unattempted, so it is never released as the next probe', () => {
    const state = new SubscriptionState(input);
    state.reportEndpoint(report('b1', 'failing'));
    state.noteHeld('b2');
    state.noteHeld('b3');
    expect(state.reportEndpoint(report('b2', 'exhausted'))).toBe(true);
    state.reportEndpoint(report('b1', 'exhausted'));
    expect(state.gate.probeBatchId).toBe('b3');
    expect(state.gate.toRelease).toEqual(['b3']);
  });

  it('never holds the last batch of a deleted subscription', () => {
    const state = new SubscriptionState(input);
    state.reportEndpoint(report('b1', 'failing'));
    expect(state.holdsNextBatch()).toBe(true);
    state.markDeleting();
    expect(state.holdsNextBatch()).toBe(false);
  });
});
