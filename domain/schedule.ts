/**
 * The retry schedule: the one place that says when a failed delivery is tried again.
 *
 * Polynomial backoff: the wait after failed attempt n (n = 1..25) is 25 s × n³.
 * 26 attempts in all; the 25 waits add up to 25 s × (25·26/2)² = 2,640,625 s ≈ 30.56 days,
 * inside the contract's 29–31 days. The first retries come quickly (25 s, 3 min 20 s, 11 min 15 s),
 * the last ones days apart.
 */
export const MAX_ATTEMPTS = 26;
/**
 * After this many failed attempts of one batch (about 4 minutes of failing: 25 s + 200 s waits),
 * that batch becomes its subscription's probe and newer batches are held behind it.
 */
export const GATE_AFTER_FAILED_ATTEMPTS = 3;
const WAIT_UNIT_MS = 25_000;
const DEGREE = 3;

/** Wait in milliseconds after failed attempt `attempt` (1-based), before `DELIVERY_BACKOFF_SCALE`. */
export function retryWaitMs(attempt: number): number {
  if (!Number.isInteger(attempt) || attempt < 1 || attempt >= MAX_ATTEMPTS) {
    throw new RangeError(`no retry follows attempt ${attempt}`);
  }
  return WAIT_UNIT_MS * attempt ** DEGREE;
}

/** The wait after failed attempt `attempt`, scaled (a staging or test knob), at least 1 ms. */
export function scaledRetryWaitMs(attempt: number, scale: number): number {
  return Math.max(1, Math.round(retryWaitMs(attempt) * scale));
}

export interface ScheduleRow {
  attempt: number;
  /** Wait before this attempt (0 for the first). */
  waitMs: number;
  /** Time from the first attempt to this one. */
  offsetMs: number;
}

/** The whole schedule, attempt by attempt: what docs/ shows as a table and tests compare against. */
export function retrySchedule(scale = 1): ScheduleRow[] {
  const rows: ScheduleRow[] = [{ attempt: 1, waitMs: 0, offsetMs: 0 }];
  for (let attempt = 2; attempt <= MAX_ATTEMPTS; attempt++) {
    const waitMs = scaledRetryWaitMs(attempt - 1, scale);
    rows.push({ attempt, waitMs, offsetMs: rows[rows.length - 1]!.offsetMs + waitMs });
  }
  return rows;
}

/** From a batch's first attempt to its last, at this scale: how long it may be held unattempted. */
export function retryHorizonMs(scale = 1): number {
  return retrySchedule(scale)[MAX_ATTEMPTS - 1]!.offsetMs;
}

/**
 * The contract's bound on the 25 waits together: 31 days (the schedule itself takes 30.56). A
 * partner's Retry-After may push an attempt later than the schedule; the last attempt still comes
 * no later than this bound after the first.
 */
export const SCHEDULE_BOUND_MS = 31 * 24 * 60 * 60 * 1000;

/** The most a Retry-After may delay one attempt: 24 hours (whatever the schedule's scale). */
export const MAX_RETRY_AFTER_MS = 24 * 60 * 60 * 1000;

/** The least wait between two attempts when Retry-After delays have used up the schedule's slack. */
const MIN_WAIT_MS = 60_000;

/**
 * The wait after failed attempt `attempt`, `elapsedMs` after the first attempt was scheduled. The
 * schedule's wait, or, when the endpoint asked for more (`askedMs`, Retry-After), what it asked,
 * capped at MAX_RETRY_AFTER_MS. Either way no later than leaves every remaining attempt a minute
 * (scaled) before SCHEDULE_BOUND_MS (scaled): while asks stay within the schedule's slack (10.5
 * hours at scale 1) the schedule is kept; past it, the last waits shrink so that there are still
 * 26 attempts within the bound.
 */
export function nextWaitMs(attempt: number, scale: number, elapsedMs: number, askedMs?: number): number {
  const scheduled = scaledRetryWaitMs(attempt, scale);
  const wanted = askedMs === undefined ? scheduled : Math.max(scheduled, Math.min(askedMs, MAX_RETRY_AFTER_MS));
  const attemptsAfterNext = MAX_ATTEMPTS - 1 - attempt;
  const latest = (SCHEDULE_BOUND_MS - attemptsAfterNext * MIN_WAIT_MS) * scale - elapsedMs;
  return Math.max(1, Math.round(Math.min(wanted, latest)));
}
