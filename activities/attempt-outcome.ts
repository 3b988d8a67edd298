import { MAX_ATTEMPTS, scaledRetryWaitMs } from '../domain/schedule';

/**
 * The one place that turns what an HTTP attempt produced into success, or a failure with its next
 * delay. Pure, so every rule of the contract has a unit test: any 2xx succeeds; every other
 * status (1xx, 3xx: redirects are not followed, 4xx, 5xx) and every error fails the attempt and
 * is retried on the polynomial schedule until the 26th attempt.
 */
export type AttemptOutcome =
  | { kind: 'response'; status: number; bodySnippet: string }
  | { kind: 'error'; code: string; message: string };

export interface AttemptFailureDetail {
  attempt: number;
  status?: number;
  bodySnippet?: string;
  errorCode?: string;
}

export type AttemptVerdict =
  | { delivered: true; status: number }
  | { delivered: false; message: string; detail: AttemptFailureDetail; nextRetryDelayMs: number | undefined };

export const BODY_SNIPPET_BYTES = 1_024;

export function judgeAttempt(outcome: AttemptOutcome, attempt: number, backoffScale: number): AttemptVerdict {
  if (outcome.kind === 'response' && outcome.status >= 200 && outcome.status < 300) {
    return { delivered: true, status: outcome.status };
  }
  const nextRetryDelayMs = attempt < MAX_ATTEMPTS ? scaledRetryWaitMs(attempt, backoffScale) : undefined;
  if (outcome.kind === 'response') {
    return {
      delivered: false,
      message: `attempt ${attempt}: HTTP ${outcome.status} from the endpoint${snippetSuffix(outcome.bodySnippet)}`,
      detail: { attempt, status: outcome.status, bodySnippet: outcome.bodySnippet },
      nextRetryDelayMs,
    };
  }
  return {
    delivered: false,
    message: `attempt ${attempt}: ${outcome.code}: ${outcome.message}`,
    detail: { attempt, errorCode: outcome.code },
    nextRetryDelayMs,
  };
}

/** The start of the response body, on one line, for the failure message an operator reads first. */
const MESSAGE_SNIPPET_CHARS = 200;
function snippetSuffix(snippet: string): string {
  const line = snippet.replace(/\s+/g, ' ').trim();
  if (!line) return '';
  return `: ${line.length > MESSAGE_SNIPPET_CHARS ? `${line.slice(0, MESSAGE_SNIPPET_CHARS)}…` : line}`;
}
