import { describe, expect, it } from 'vitest';
import { CARRY_LIMIT_BYTES, HAND_OVER_QUIET_MS, HAND_OVER_SIGNAL_MS, nextStep, TASK_CUT_LIMIT_BYTES, type StepInput } from '../../domain/subscription-step';

/** A subscription with nothing to do: nothing pending, nothing held, nothing in flight. */
const idle: StepInput = {
  deleting: false,
  releasesWaiting: false,
  pendingCount: 0,
  fitCount: 0,
  lastCutAt: 0,
  now: 10_000,
  windowMs: 1_000,
  maxEvents: 100,
  childStartsInFlight: false,
  childStartsJustSettled: false,
  dueToContinue: false,
  pendingBytes: 0,
  limitsCarry: () => true,
  cutBytesInFlight: 0,
  limitsTask: () => true,
};
/** Events pending past their window: a batch is due. */
const due = { pendingCount: 5, fitCount: 5 };

describe("the subscription's next step", () => {
  it('waits without a timer when idle, and until the window ends with events pending', () => {
    expect(nextStep(idle)).toEqual({ kind: 'wait', waitMs: null });
    expect(nextStep({ ...idle, pendingCount: 3, fitCount: 3, lastCutAt: 9_500 })).toEqual({ kind: 'wait', waitMs: 500 });
  });

  it('cuts by count, by bytes and by window, and whatever is pending when deleting', () => {
    expect(nextStep({ ...idle, ...due })).toEqual({ kind: 'cut', size: 5, reason: 'window' });
    expect(nextStep({ ...idle, pendingCount: 250, fitCount: 250, lastCutAt: 10_000 })).toEqual({ kind: 'cut', size: 100, reason: 'count' });
    expect(nextStep({ ...idle, pendingCount: 40, fitCount: 7, lastCutAt: 10_000 })).toEqual({ kind: 'cut', size: 7, reason: 'bytes' });
    expect(nextStep({ ...idle, deleting: true, pendingCount: 3, fitCount: 3, lastCutAt: 10_000 })).toEqual({ kind: 'cut', size: 3, reason: 'delete' });
    expect(nextStep({ ...idle, deleting: true, pendingCount: 300, fitCount: 300, lastCutAt: 10_000 })).toEqual({ kind: 'cut', size: 100, reason: 'delete' });
  });

  describe('0. a quiet hand-over, when due', () => {
    const handingOver = { ...idle, ...due, releasesWaiting: true, dueToContinue: true, quietHandOver: () => true, childrenRunning: 0, handOverWaitedMs: 0, justSignalled: false };

    it('cuts and releases nothing, and lets the batch starts settle first', () => {
      expect(nextStep({ ...handingOver, childStartsInFlight: true })).toEqual({ kind: 'await-child-starts' });
    });

    it("waits for the run's batches to end, at most HAND_OVER_QUIET_MS from when it became due", () => {
      expect(nextStep({ ...handingOver, childrenRunning: 3, handOverWaitedMs: 200 })).toEqual({ kind: 'hand-over-wait', until: 'children-ended', waitMs: HAND_OVER_QUIET_MS - 200 });
      expect(nextStep({ ...handingOver, childrenRunning: 3, handOverWaitedMs: HAND_OVER_QUIET_MS })).toEqual({ kind: 'hand-over-wait', until: 'signal', waitMs: HAND_OVER_SIGNAL_MS - HAND_OVER_QUIET_MS });
    });

    it('hands over in the workflow task of a signal, or when HAND_OVER_SIGNAL_MS has passed without one', () => {
      expect(nextStep({ ...handingOver, handOverWaitedMs: 300 })).toEqual({ kind: 'hand-over-wait', until: 'signal', waitMs: HAND_OVER_SIGNAL_MS - 300 });
      expect(nextStep({ ...handingOver, justSignalled: true })).toEqual({ kind: 'continue-as-new' });
      expect(nextStep({ ...handingOver, childrenRunning: 2, handOverWaitedMs: HAND_OVER_SIGNAL_MS })).toEqual({ kind: 'continue-as-new' });
    });

    it('asks its patch only once a hand-over is due; without it (older runs), the rules below apply', () => {
      let asked = 0;
      const quietHandOver = () => (asked++, false);
      expect(nextStep({ ...handingOver, dueToContinue: false, quietHandOver })).toEqual({ kind: 'release' });
      expect(asked).toBe(0);
      expect(nextStep({ ...handingOver, quietHandOver })).toEqual({ kind: 'release' });
      expect(asked).toBe(1);
    });

    it('is not for a subscription being deleted, nor for a backlog over the carry limit, which is cut first', () => {
      expect(nextStep({ ...handingOver, deleting: true, justSignalled: true })).toEqual({ kind: 'release' });
      expect(nextStep({ ...handingOver, releasesWaiting: false, pendingCount: 5_000, fitCount: 1_200, pendingBytes: 1_500_000, justSignalled: true })).toEqual({ kind: 'cut', size: 100, reason: 'count' });
    });
  });

  // The priority order, each rule against everything ranked below it.
  it('1. continues as new right after child starts settle when due, before releasing or cutting', () => {
    const settledAndDue = { ...idle, ...due, releasesWaiting: true, childStartsJustSettled: true, dueToContinue: true };
    expect(nextStep(settledAndDue)).toEqual({ kind: 'continue-as-new' });
    // Not while deleting: the last batches go out first.
    expect(nextStep({ ...settledAndDue, deleting: true })).toEqual({ kind: 'release' });
    // Not due, or not just settled: the usual order.
    expect(nextStep({ ...settledAndDue, dueToContinue: false })).toEqual({ kind: 'release' });
    expect(nextStep({ ...settledAndDue, childStartsJustSettled: false })).toEqual({ kind: 'release' });
  });

  it('1. but cuts a backlog over CARRY_LIMIT_BYTES first, and only asks the patch when that case arises', () => {
    let asked = 0;
    const limitsCarry = () => (asked++, true);
    const backlog = { ...idle, pendingCount: 5_000, fitCount: 1_200, pendingBytes: 1_500_000, childStartsJustSettled: true, dueToContinue: true, limitsCarry };
    expect(nextStep(backlog)).toEqual({ kind: 'cut', size: 100, reason: 'count' });
    expect(asked).toBe(1);
    // Within the limit it continues as new without asking.
    expect(nextStep({ ...backlog, pendingCount: 50, fitCount: 50, pendingBytes: CARRY_LIMIT_BYTES })).toEqual({ kind: 'continue-as-new' });
    expect(asked).toBe(1);
    // A run recorded before the rule (the patch absent when replayed) carries it as it did.
    expect(nextStep({ ...backlog, limitsCarry: () => false })).toEqual({ kind: 'continue-as-new' });
  });

  it('3. stops cutting once a pass has TASK_CUT_LIMIT_BYTES of batches in flight, and waits for their starts', () => {
    let asked = 0;
    const backlog = { ...idle, pendingCount: 5_000, fitCount: 1_200, lastCutAt: 10_000, childStartsInFlight: true, limitsTask: () => (asked++, true) };
    expect(nextStep({ ...backlog, cutBytesInFlight: TASK_CUT_LIMIT_BYTES - 1 })).toEqual({ kind: 'cut', size: 100, reason: 'count' });
    expect(asked).toBe(0);
    expect(nextStep({ ...backlog, cutBytesInFlight: TASK_CUT_LIMIT_BYTES })).toEqual({ kind: 'await-child-starts' });
    expect(nextStep({ ...backlog, deleting: true, cutBytesInFlight: TASK_CUT_LIMIT_BYTES })).toEqual({ kind: 'await-child-starts' });
    expect(asked).toBe(2);
    // Replaying a run recorded before the bound: it cut on, as it did.
    expect(nextStep({ ...backlog, cutBytesInFlight: TASK_CUT_LIMIT_BYTES, limitsTask: () => false })).toEqual({ kind: 'cut', size: 100, reason: 'count' });
  });

  it('2. releases held batches before cutting, waiting for starts, finishing a delete or continuing', () => {
    for (const state of [due, { childStartsInFlight: true }, { deleting: true }, { dueToContinue: true }]) {
      expect(nextStep({ ...idle, releasesWaiting: true, ...state })).toEqual({ kind: 'release' });
    }
  });

  it('3. cuts before waiting for child starts, finishing a delete or continuing', () => {
    for (const state of [{ childStartsInFlight: true }, { dueToContinue: true }]) {
      expect(nextStep({ ...idle, ...due, ...state })).toMatchObject({ kind: 'cut' });
    }
    expect(nextStep({ ...idle, ...due, deleting: true })).toMatchObject({ kind: 'cut', reason: 'delete' });
  });

  it('4. waits for the child starts of this pass before finishing a delete, continuing or waiting', () => {
    for (const state of [{}, { deleting: true }, { dueToContinue: true }, { pendingCount: 3, fitCount: 3, lastCutAt: 9_500 }]) {
      expect(nextStep({ ...idle, childStartsInFlight: true, ...state })).toEqual({ kind: 'await-child-starts' });
    }
  });

  it('5. finishes a delete before continuing as new', () => {
    expect(nextStep({ ...idle, deleting: true, dueToContinue: true })).toEqual({ kind: 'finish-delete' });
    expect(nextStep({ ...idle, deleting: true, childStartsJustSettled: true, dueToContinue: true })).toEqual({ kind: 'finish-delete' });
  });

  it('6. continues as new when due rather than waiting', () => {
    expect(nextStep({ ...idle, dueToContinue: true })).toEqual({ kind: 'continue-as-new' });
    expect(nextStep({ ...idle, pendingCount: 3, fitCount: 3, lastCutAt: 9_500, dueToContinue: true })).toEqual({ kind: 'continue-as-new' });
  });
});
