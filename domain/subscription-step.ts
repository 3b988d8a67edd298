import { decideBatch, type BatchingInput } from './batching';

/**
 * What a subscription workflow's main loop does next, as a pure function. The loop asks, does it,
 * and asks again; every command the workflow issues follows from this order, so a change to it
 * must keep old histories replaying (test/replay).
 */
export interface StepInput extends BatchingInput {
  /** The subscription is being deleted: its pending events go out in last batches, then it ends. */
  deleting: boolean;
  /** Held batches wait for their release signal. */
  releasesWaiting: boolean;
  /** Batches cut in this pass whose child workflow starts are not yet confirmed. */
  childStartsInFlight: boolean;
  /** The previous step waited for child starts. */
  childStartsJustSettled: boolean;
  /** The run reached one of its limits (history, signals, batches) or Temporal suggests a new run. */
  dueToContinue: boolean;
}

export type Step =
  | { kind: 'continue-as-new' }
  /** Send the release signal to the oldest held batches. */
  | { kind: 'release' }
  | { kind: 'cut'; size: number; reason: 'count' | 'bytes' | 'window' | 'delete' }
  | { kind: 'await-child-starts' }
  /** Wait for running handlers, then end if nothing is pending. */
  | { kind: 'finish-delete' }
  /** Until woken (events, a change, a report) or, with events pending, until the window ends. */
  | { kind: 'wait'; waitMs: number | null };

/**
 * In priority order:
 * 1. continue as new right after child starts settle, when due (and not deleting): under a steady
 *    stream there is always another batch to cut, and the run's history would grow toward 50 MB;
 * 2. release held batches;
 * 3. cut a batch (deleting: whatever is pending, regardless of the window);
 * 4. wait for the child starts of the batches cut in this pass, all in one workflow task;
 * 5. finish a delete;
 * 6. continue as new when due;
 * 7. wait.
 */
export function nextStep(input: StepInput): Step {
  if (input.childStartsJustSettled && input.dueToContinue && !input.deleting) return { kind: 'continue-as-new' };
  if (input.releasesWaiting) return { kind: 'release' };
  const { pendingCount, fitCount, maxEvents } = input;
  let waitMs: number | null = null;
  if (input.deleting) {
    if (pendingCount > 0) return { kind: 'cut', size: Math.min(pendingCount, maxEvents, fitCount), reason: 'delete' };
  } else {
    const decision = decideBatch(input);
    if (decision.cut) return { kind: 'cut', size: decision.size, reason: decision.reason };
    waitMs = decision.waitMs;
  }
  if (input.childStartsInFlight) return { kind: 'await-child-starts' };
  if (input.deleting) return { kind: 'finish-delete' };
  if (input.dueToContinue) return { kind: 'continue-as-new' };
  return { kind: 'wait', waitMs };
}
