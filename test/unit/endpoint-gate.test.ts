import { describe, expect, it } from 'vitest';
import { EndpointGate, MAX_HELD_BATCHES, type GateState } from '../../domain/endpoint-gate';

const report = (batchId: string, outcome: 'failing' | 'exhausted' | 'recovered', at = '2026-01-02T00:00:00.000Z') => ({ batchId, outcome, at });

describe('the endpoint gate', () => {
  it('holds batches once a batch reports failing, and releases them in order when one gets through', () => {
    const gate = new EndpointGate();
    expect(gate.holdsNextBatch(false)).toBe(false);
    expect(gate.report(report('b1', 'failing'))).toEqual({ changed: true, wake: false });
    expect(gate.report(report('b2', 'failing'))).toEqual({ changed: false, wake: false }); // one probe at a time
    expect(gate.holdsNextBatch(false)).toBe(true);
    gate.noteHeld('b3');
    gate.noteHeld('b4');
    expect(gate.health()).toMatchObject({ probeBatchId: 'b1', heldBatches: 2 });
    expect(gate.hasReleases).toBe(false);
    expect(gate.report(report('b2', 'recovered'))).toEqual({ changed: true, wake: true });
    expect(gate.hasReleases).toBe(true);
    expect(gate.takeReleases(1)).toEqual(['b3']);
    expect(gate.takeReleases(100)).toEqual(['b4']);
    expect(gate.hasReleases).toBe(false);
    expect(gate.holdsNextBatch(false)).toBe(false);
    expect(gate.health()).toEqual({ failingSince: null, probeBatchId: null, heldBatches: 0, disabledReason: null });
  });

  it('disables itself when the probe is exhausted, and the oldest held batch probes next', () => {
    const gate = new EndpointGate();
    gate.report(report('b1', 'failing'));
    gate.noteHeld('b2');
    gate.noteHeld('b3');
    expect(gate.report(report('b9', 'exhausted'))).toEqual({ changed: false, wake: false }); // not the probe
    expect(gate.report(report('b1', 'exhausted'))).toEqual({ changed: true, wake: true });
    expect(gate.enabled).toBe(false);
    expect(gate.health()).toMatchObject({ probeBatchId: 'b2', disabledReason: expect.stringContaining('batch b1') as string });
    expect(gate.carryOver()).toMatchObject({ toRelease: ['b2'], held: ['b3'] });
    // A success of the new probe ends the automatic disabling.
    gate.report(report('b2', 'recovered'));
    expect(gate.enabled).toBe(true);
    expect(gate.carryOver().toRelease).toEqual(['b2', 'b3']);
  });

  it('after an exhausted probe with nothing held, the next batch cut probes instead of waiting', () => {
    const gate = new EndpointGate();
    gate.report(report('b1', 'failing'));
    gate.report(report('b1', 'exhausted'));
    expect(gate.holdsNextBatch(false)).toBe(false);
    expect(gate.noteProbe('b2')).toBe(true);
    expect(gate.noteProbe('b3')).toBe(false);
    expect(gate.health().probeBatchId).toBe('b2');
    expect(gate.holdsNextBatch(false)).toBe(true);
  });

  it('an operator disabling it keeps it disabled through a recovery; enabling or a new url reopens the gate', () => {
    const gate = new EndpointGate();
    gate.configure({ enabled: false }, '2026-01-02T00:00:00.000Z');
    gate.report(report('b1', 'failing'));
    gate.noteHeld('b2');
    gate.report(report('b1', 'recovered'));
    expect(gate.enabled).toBe(false);
    expect(gate.health().disabledReason).toBe('disabled through the API');
    gate.report(report('b3', 'failing'));
    gate.noteHeld('b4');
    gate.configure({ url: 'https://example.org/new' }, '2026-01-02T00:00:01.000Z');
    expect(gate.carryOver().toRelease).toEqual(['b2', 'b4']);
    expect(gate.enabled).toBe(false);
    gate.configure({ enabled: true }, '2026-01-02T00:00:02.000Z');
    expect(gate.enabled).toBe(true);
    expect(gate.health().disabledReason).toBeNull();
  });

  it('disables itself when MAX_HELD_BATCHES are held, once', () => {
    const gate = new EndpointGate();
    gate.report(report('b0', 'failing'));
    for (let i = 1; i < MAX_HELD_BATCHES; i++) expect(gate.noteHeld(`b${i}`)).toBe(false);
    expect(gate.noteHeld('last')).toBe(true);
    expect(gate.noteHeld('after')).toBe(false);
    expect(gate.health()).toMatchObject({ heldBatches: MAX_HELD_BATCHES + 1, disabledReason: `${MAX_HELD_BATCHES} batches held behind a failing endpoint` });
  });

  it('ignores a failing report from an attempt that started before the gate last reopened', () => {
    const gate = new EndpointGate();
    gate.report(report('b1', 'failing', '2026-01-02T00:00:00.000Z'));
    gate.report(report('b1', 'recovered', '2026-01-02T00:10:00.000Z'));
    expect(gate.report(report('b2', 'failing', '2026-01-02T00:09:00.000Z')).changed).toBe(false);
    expect(gate.holdsNextBatch(false)).toBe(false);
    expect(gate.report(report('b3', 'failing', '2026-01-02T00:11:00.000Z')).changed).toBe(true);
  });

  it('forgets a held batch that ended unattempted, so it is never released as the next probe', () => {
    const gate = new EndpointGate();
    gate.report(report('b1', 'failing'));
    gate.noteHeld('b2');
    gate.noteHeld('b3');
    expect(gate.report(report('b2', 'exhausted'))).toEqual({ changed: true, wake: false });
    gate.report(report('b1', 'exhausted'));
    expect(gate.health().probeBatchId).toBe('b3');
    expect(gate.carryOver().toRelease).toEqual(['b3']);
  });

  it('never holds the batch of a subscription being deleted, and releases every held one then', () => {
    const gate = new EndpointGate();
    gate.report(report('b1', 'failing'));
    gate.noteHeld('b2');
    expect(gate.holdsNextBatch(false)).toBe(true);
    expect(gate.holdsNextBatch(true)).toBe(false);
    gate.releaseAll();
    expect(gate.carryOver()).toMatchObject({ held: [], toRelease: ['b2'] });
  });

  it('loads the state a run of older code carried over, and carries it on with the same shape', () => {
    // As written by runs before this unit existed (test/replay/histories/45ed389), reopenedAt absent.
    const carried: GateState = { enabled: false, disabledReason: 'disabled through the API', failingSince: '2026-01-01T00:00:00.000Z', probeBatchId: 'p', held: ['h1'], toRelease: [] };
    const gate = new EndpointGate(structuredClone(carried));
    expect(gate.carryOver()).toEqual(carried);
    expect(Object.keys(gate.carryOver()).sort()).toEqual(['disabledReason', 'enabled', 'failingSince', 'held', 'probeBatchId', 'toRelease']);
    gate.configure({ enabled: true }, '2026-01-03T00:00:00.000Z');
    expect(gate.carryOver()).toEqual({ enabled: true, disabledReason: null, failingSince: null, probeBatchId: null, held: [], toRelease: ['h1'], reopenedAt: '2026-01-03T00:00:00.000Z' });
  });
});
