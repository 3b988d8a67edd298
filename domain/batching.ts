/**
 * The batching rule, as a pure function: the one place that decides when a batch is cut.
 *
 * A subscription cuts a batch as soon as either its pending events reach `maxEvents`, or
 * `windowMs` has passed since the last batch was created (for a new subscription: since it was
 * created) and at least one event is pending. No empty batch is ever cut.
 */
export interface BatchingInput {
  pendingCount: number;
  /** When the last batch was created, or the subscription if none was (epoch ms). */
  lastCutAt: number;
  now: number;
  windowMs: number;
  maxEvents: number;
}

export type BatchDecision =
  | { cut: true; size: number; reason: 'count' | 'window' }
  /** `waitMs` null: nothing is pending, so no timer is needed until an event arrives. */
  | { cut: false; waitMs: number | null };

export function decideBatch({ pendingCount, lastCutAt, now, windowMs, maxEvents }: BatchingInput): BatchDecision {
  if (pendingCount <= 0) return { cut: false, waitMs: null };
  if (pendingCount >= maxEvents) return { cut: true, size: maxEvents, reason: 'count' };
  const dueAt = lastCutAt + windowMs;
  if (now >= dueAt) return { cut: true, size: pendingCount, reason: 'window' };
  return { cut: false, waitMs: dueAt - now };
}
