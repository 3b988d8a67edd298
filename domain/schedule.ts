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
 * The contract's bound on the 25 waits together: 31 days. The schedule takes 30.56, which leaves
 * 10.5 hours (at scale 1) for a partner's Retry-After to push attempts later.
 */
export const SCHEDULE_BOUND_MS = 31 * 24 * 60 * 60 * 1000;

/** The most a Retry-After may delay one attempt: 24 hours (scaled like every wait). */
export const MAX_RETRY_AFTER_MS = 24 * 60 * 60 * 1000;

/** The least wait between two attempts when later waits give back time an ask took (scaled). */
const MIN_WAIT_MS = 60_000;

/**
 * What Retry-After asks have cost one batch so far, carried from attempt to attempt (in the
 * activity's heartbeat details): time added beyond the schedule's waits, and time given back since
 * by shortening later waits.
 */
export interface RetryAfterLedger {
  extraMs: number;
  repaidMs: number;
}

export const EMPTY_LEDGER: RetryAfterLedger = { extraMs: 0, repaidMs: 0 };

/**
 * The wait after failed attempt `attempt` (1..25), all times scaled by `scale`:
 * - an ask (`askedMs`, Retry-After) longer than the schedule's wait is honoured, capped at
 *   MAX_RETRY_AFTER_MS and at what later waits could still give back even if every later attempt
 *   asked for the cap too, so that 26 attempts always end within SCHEDULE_BOUND_MS;
 * - otherwise the schedule's wait, shortened only while earlier asks have used more than the
 *   schedule's slack (10.5 hours at scale 1), and never below what this attempt asked nor below a
 *   minute.
 */
export function nextWait(attempt: number, scale: number, askedMs: number | undefined, ledger: RetryAfterLedger = EMPTY_LEDGER): { waitMs: number; ledger: RetryAfterLedger } {
  const scheduled = scaledRetryWaitMs(attempt, scale);
  const cap = MAX_RETRY_AFTER_MS * scale;
  const slack = (SCHEDULE_BOUND_MS - retryHorizonMs(1)) * scale;
  const minWait = Math.max(1, MIN_WAIT_MS * scale);
  const asked = askedMs === undefined ? undefined : Math.min(askedMs, Math.max(cap, scheduled));
  // Owed beyond the slack (negative: slack left).
  const debt = ledger.extraMs - slack - ledger.repaidMs;
  if (asked !== undefined && asked > scheduled) {
    let capacityAfter = 0;
    for (let later = attempt + 1; later < MAX_ATTEMPTS; later++) {
      const wait = scaledRetryWaitMs(later, scale);
      capacityAfter += Math.max(0, wait - Math.max(minWait, Math.min(cap, wait)));
    }
    const allowed = Math.max(0, Math.min(asked - scheduled, capacityAfter - debt));
    return { waitMs: Math.round(scheduled + allowed), ledger: { ...ledger, extraMs: ledger.extraMs + allowed } };
  }
  const floor = Math.max(minWait, asked ?? 0);
  const repay = Math.max(0, Math.min(debt, scheduled - floor));
  return { waitMs: Math.max(1, Math.round(scheduled - repay)), ledger: { ...ledger, repaidMs: ledger.repaidMs + repay } };
}
