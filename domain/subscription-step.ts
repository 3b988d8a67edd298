import { decideBatch, type BatchingInput } from './batching';
import { MAX_BATCH_BYTES } from './limits';

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
  /** The pending events' size as JSON, in bytes. */
  pendingBytes: number;
  /**
   * Whether rule 1 waits for pending events over CARRY_LIMIT_BYTES to be cut first. Asked only when
   * that case arises: the workflow answers with a patch marker, so that runs recorded before the
   * rule replay as they ran.
   */
  limitsCarry: () => boolean;
  /** The event bytes of the batches cut in this pass, whose child starts are in flight. */
  cutBytesInFlight: number;
  /** Whether rule 3 stops at TASK_CUT_LIMIT_BYTES; asked, like `limitsCarry`, only when it matters. */
  limitsTask: () => boolean;
  /**
   * Whether a due hand-over goes quietly (rule 0); asked, like `limitsCarry`, only once a hand-over
   * is due, so that runs recorded before the rule replay as they ran. Absent: never.
   */
  quietHandOver?: () => boolean;
  /** Batch workflows this run started that have not ended yet. */
  childrenRunning?: number;
  /** How long ago this run's hand-over became due (null: not yet, or not quietly). */
  handOverWaitedMs?: number | null;
  /** A signal arrived in the workflow task now running: the next one is some time away. */
  justSignalled?: boolean;
}

/**
 * The most batch bytes one pass starts before it waits for their child starts: every child start
 * of a pass goes out in one workflow task completion, and Temporal refuses one over 4 MB (a burst's
 * backlog cut in one pass failed every workflow task from then on, `GrpcMessageTooLarge`).
 */
export const TASK_CUT_LIMIT_BYTES = 1024 * 1024;

/**
 * The most pending event bytes a continue-as-new carries to the next run (one batch's worth):
 * beyond it they are cut into batches first. Temporal refuses a command whose payload passes 2 MB,
 * and a run that tried to carry a burst's backlog failed every workflow task from then on.
 */
export const CARRY_LIMIT_BYTES = MAX_BATCH_BYTES;

export type Step =
  | { kind: 'continue-as-new' }
  /** Send the release signal to the oldest held batches. */
  | { kind: 'release' }
  | { kind: 'cut'; size: number; reason: 'count' | 'bytes' | 'window' | 'delete' }
  | { kind: 'await-child-starts' }
  /** Wait for running handlers, then end if nothing is pending. */
  | { kind: 'finish-delete' }
  /** Until woken (events, a change, a report) or, with events pending, until the window ends. */
  | { kind: 'wait'; waitMs: number | null }
  /** A quiet hand-over (rule 0): until this run's batches end, or until the next signal; at most `waitMs`. */
  | { kind: 'hand-over-wait'; until: 'children-ended' | 'signal'; waitMs: number };

/**
 * A quiet hand-over waits at most this long, from when it became due, for the batches the run
 * started to end, and at most HAND_OVER_SIGNAL_MS for a signal to hand over right after.
 */
export const HAND_OVER_QUIET_MS = 1_000;
export const HAND_OVER_SIGNAL_MS = 2_000;

/**
 * In priority order:
 * 0. a quiet hand-over, when due (and not deleting, and what is pending fits the carry limit). Temporal
 *    refuses a continue-as-new from a workflow task during which any new event arrived (a signal, a
 *    batch's start or end) and the SDK then replays the whole run: seconds for a busy one, while
 *    signals to it are refused (the stall of docs/performance.md). So the run stops cutting and
 *    releasing, lets its batches' starts settle and its young batches end (at most
 *    HAND_OVER_QUIET_MS), then hands over in the workflow task of the next signal (at most
 *    HAND_OVER_SIGNAL_MS): an API process sends a subscription one signal at a time and at least
 *    INGEST_SIGNAL_INTERVAL_MS apart, so the next one is that far off. Events keep arriving and are
 *    carried;
 * 1. continue as new right after child starts settle, when due (and not deleting): under a steady
 *    stream there is always another batch to cut, and the run's history would grow toward 50 MB;
 *    but not while more than CARRY_LIMIT_BYTES of events are pending: those are cut first (3.);
 * 2. release held batches;
 * 3. cut a batch (deleting: whatever is pending, regardless of the window);
 *    A pass stops cutting once TASK_CUT_LIMIT_BYTES of batches are in flight, and waits (4.);
 * 4. wait for the child starts of the batches cut in this pass, all in one workflow task;
 * 5. finish a delete;
 * 6. continue as new when due;
 * 7. wait.
 */
export function nextStep(input: StepInput): Step {
  const carryFits = () => input.pendingBytes <= CARRY_LIMIT_BYTES || !input.limitsCarry();
  if (input.dueToContinue && !input.deleting && input.quietHandOver && carryFits() && input.quietHandOver()) {
    if (input.childStartsInFlight) return { kind: 'await-child-starts' };
    const waited = input.handOverWaitedMs ?? 0;
    if ((input.childrenRunning ?? 0) > 0 && waited < HAND_OVER_QUIET_MS) return { kind: 'hand-over-wait', until: 'children-ended', waitMs: HAND_OVER_QUIET_MS - waited };
    if (!input.justSignalled && waited < HAND_OVER_SIGNAL_MS) return { kind: 'hand-over-wait', until: 'signal', waitMs: HAND_OVER_SIGNAL_MS - waited };
    return { kind: 'continue-as-new' };
  }
  if (input.childStartsJustSettled && input.dueToContinue && !input.deleting && (input.pendingBytes <= CARRY_LIMIT_BYTES || !input.limitsCarry())) {
    return { kind: 'continue-as-new' };
  }
  if (input.releasesWaiting) return { kind: 'release' };
  const { pendingCount, fitCount, maxEvents } = input;
  let waitMs: number | null = null;
  if (input.deleting) {
    if (pendingCount > 0 && !taskFull(input)) return { kind: 'cut', size: Math.min(pendingCount, maxEvents, fitCount), reason: 'delete' };
  } else {
    const decision = decideBatch(input);
    if (!decision.cut) waitMs = decision.waitMs;
    // A full pass falls through to waiting for its child starts (taskFull implies some in flight).
    else if (!taskFull(input)) return { kind: 'cut', size: decision.size, reason: decision.reason };
  }
  if (input.childStartsInFlight) return { kind: 'await-child-starts' };
  if (input.deleting) return { kind: 'finish-delete' };
  if (input.dueToContinue) return { kind: 'continue-as-new' };
  return { kind: 'wait', waitMs };
}

/** This pass has cut as many bytes as one workflow task should start (patched: see `limitsTask`). */
function taskFull(input: StepInput): boolean {
  return input.childStartsInFlight && input.cutBytesInFlight >= TASK_CUT_LIMIT_BYTES && input.limitsTask();
}
