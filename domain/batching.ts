/**
 * The batching rule, as a pure function: the one place that decides when a batch is cut.
 *
 * A subscription cuts a batch as soon as either its pending events reach `maxEvents`, or
 * `windowMs` has passed since the last batch was created (for a new subscription: since it was
 * created) and at least one event is pending. No empty batch is ever cut. A batch is also cut,
 * early, before its payload would pass the byte limit (`fitCount`: how many pending events, from
 * the oldest, fit in one payload), so Temporal never sees a payload it would refuse.
 */
export interface BatchingInput {
  pendingCount: number;
  /** How many pending events, oldest first, fit within the batch byte limit (≥ 1 if any pending). */
  fitCount: number;
  /** When the last batch was created, or the subscription if none was (epoch ms). */
  lastCutAt: number;
  now: number;
  windowMs: number;
  maxEvents: number;
}

export type BatchDecision =
  | { cut: true; size: number; reason: 'count' | 'bytes' | 'window' }
  /** `waitMs` null: nothing is pending, so no timer is needed until an event arrives. */
  | { cut: false; waitMs: number | null };

export function decideBatch({ pendingCount, fitCount, lastCutAt, now, windowMs, maxEvents }: BatchingInput): BatchDecision {
  if (pendingCount <= 0) return { cut: false, waitMs: null };
  const fits = Math.max(1, Math.min(fitCount, pendingCount));
  if (pendingCount >= maxEvents) {
    return fits < maxEvents ? { cut: true, size: fits, reason: 'bytes' } : { cut: true, size: maxEvents, reason: 'count' };
  }
  if (fits < pendingCount) return { cut: true, size: fits, reason: 'bytes' };
  const dueAt = lastCutAt + windowMs;
  if (now >= dueAt) return { cut: true, size: pendingCount, reason: 'window' };
  return { cut: false, waitMs: dueAt - now };
}
