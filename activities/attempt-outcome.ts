import { MAX_ATTEMPTS, nextWait, scaledRetryWaitMs, type RetryAfterLedger } from '../domain/schedule';

/**
 * The one place that turns what an HTTP attempt produced into success, or a failure with its next
 * delay. Pure, so every rule of the contract has a unit test: any 2xx succeeds; every other
 * status (1xx, 3xx: redirects are not followed, 4xx, 5xx) and every error fails the attempt and
 * is retried on the polynomial schedule until the 26th attempt. A 429 or 503 with Retry-After
 * delays the next attempt to no sooner than asked (domain/schedule.ts: nextWait).
 */
export type AttemptOutcome =
  /** `retryAfter`: the response's Retry-After header, as sent. */
  | { kind: 'response'; status: number; bodySnippet: string; retryAfter?: string }
  | { kind: 'error'; code: string; message: string };

export interface AttemptFailureDetail {
  attempt: number;
  status?: number;
  /** The Retry-After the endpoint sent and this attempt honoured, in milliseconds. */
  retryAfterMs?: number;
  bodySnippet?: string;
  errorCode?: string;
}

export type AttemptVerdict =
  | { delivered: true; status: number }
  /** `ledger`: what Retry-After asks cost so far, when this attempt changed it (for the next attempt). */
  | { delivered: false; message: string; detail: AttemptFailureDetail; nextRetryDelayMs: number | undefined; ledger?: RetryAfterLedger };

export const BODY_SNIPPET_BYTES = 1_024;

/** For a Retry-After: the attempt's time, and what earlier asks of this batch cost (domain/schedule.ts). */
export interface AttemptClock {
  now: number;
  ledger: RetryAfterLedger;
}

export function judgeAttempt(outcome: AttemptOutcome, attempt: number, backoffScale: number, clock?: AttemptClock): AttemptVerdict {
  if (outcome.kind === 'response' && outcome.status >= 200 && outcome.status < 300) {
    return { delivered: true, status: outcome.status };
  }
  // A 429 or 503 may say when to come back (Retry-After): no sooner than that, within the bound.
  const askedMs = outcome.kind === 'response' && (outcome.status === 429 || outcome.status === 503) && clock ? retryAfterMs(outcome.retryAfter, clock.now) : undefined;
  const last = attempt >= MAX_ATTEMPTS;
  const next = last || !clock ? undefined : nextWait(attempt, backoffScale, askedMs, clock.ledger);
  const nextRetryDelayMs = last ? undefined : (next?.waitMs ?? scaledRetryWaitMs(attempt, backoffScale));
  const honoured = !last && askedMs !== undefined;
  const ledger = next && (next.ledger.extraMs !== clock!.ledger.extraMs || next.ledger.repaidMs !== clock!.ledger.repaidMs) ? { ledger: next.ledger } : {};
  if (outcome.kind === 'response') {
    return {
      delivered: false,
      message: `attempt ${attempt}: HTTP ${outcome.status} from the endpoint${honoured ? ` (Retry-After: ${outcome.retryAfter!.trim()})` : ''}${snippetSuffix(outcome.bodySnippet)}`,
      detail: { attempt, status: outcome.status, bodySnippet: outcome.bodySnippet, ...(honoured ? { retryAfterMs: askedMs } : {}) },
      nextRetryDelayMs,
      ...ledger,
    };
  }
  return {
    delivered: false,
    message: `attempt ${attempt}: ${outcome.code}: ${outcome.message}`,
    detail: { attempt, errorCode: outcome.code },
    nextRetryDelayMs,
    ...ledger,
  };
}

/**
 * A Retry-After value (RFC 9110): a whole number of seconds, or an HTTP date. Answers the wait it
 * asks for from `now`, in milliseconds, or undefined for a missing, malformed, negative or past one
 * (the schedule then applies).
 */
export function retryAfterMs(value: string | undefined, now: number): number | undefined {
  const text = value?.trim();
  if (!text) return undefined;
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  // An HTTP date names its weekday and its zone (IMF-fixdate: "Wed, 21 Oct 2015 07:28:00 GMT").
  if (!/^[A-Za-z]{3},? .*\b(GMT|UTC)$/.test(text)) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at) || at < now) return undefined;
  return at - now;
}

/** The start of the response body, on one line, for the failure message an operator reads first. */
const MESSAGE_SNIPPET_CHARS = 200;
function snippetSuffix(snippet: string): string {
  const line = snippet.replace(/\s+/g, ' ').trim();
  if (!line) return '';
  return `: ${line.length > MESSAGE_SNIPPET_CHARS ? `${line.slice(0, MESSAGE_SNIPPET_CHARS)}…` : line}`;
}
