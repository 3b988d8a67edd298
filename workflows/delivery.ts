import type { SigningState } from '../domain/signing-state';
import { ActivityFailure, ApplicationFailure, condition, getExternalWorkflowHandle, patched, proxyActivities, proxyLocalActivities, setHandler, setWorkflowOptions, sleep, TimeoutFailure } from '@temporalio/workflow';
import { versioningBehavior } from './versioning';
import { subscriptionWorkflowId } from './ids';
import { endpointSignal, releaseSignal, type EndpointReport } from './messages';
import { MAX_ATTEMPTS, type RetryAfterLedger } from '../domain/schedule';
import type { DeliverBatchInput, DeliverBatchResult, DeliveryActivities } from '../activities/delivery';

export interface DeliveryWorkflowInput {
  batchId: string;
  partnerId: string;
  subscriptionId: string;
  url: string;
  createdAt: string;
  eventCount: number;
  /** 1 for a subscription's first batch, 2 for the next: the order batches were cut in. */
  sequence: number;
  /** The exact request body, built once when the batch was cut. Every attempt sends these bytes. */
  body: string;
  /** Cut while its endpoint was failing: wait for the subscription's release before attempting. */
  held?: boolean;
  /** How long a held batch waits for its release before it fails unattempted (twice its retry period). */
  holdLimitMs?: number;
  /** Started as its subscription's probe while the endpoint is failing: its success reopens the gate. */
  probe?: boolean;
  /** The subscription's signing state when the batch was cut (retries read the current one). */
  signing?: SigningState;
  /**
   * Set on batches started since 2026-12-07: the first attempt is a local activity, inside the
   * workflow task that starts the batch, so a batch delivered at once costs one workflow task and no
   * activity task (decision 0010). Batches recorded before replay with the first attempt as the
   * activity's. (An input field rather than a patch: `patched` also writes a search attribute, a
   * visibility update per batch.)
   */
  localFirstAttempt?: boolean;
}

/** The memo on a batch workflow, for listing batches without reading each history. */
export type BatchMemo = {
  batch: { createdAt: string; eventCount: number; sequence: number };
};

export interface DeliveryWorkflowResult {
  deliveredAt: string;
  attempts: number;
  status: number;
  /** Where it was delivered: the subscription's url at the successful attempt. */
  url: string;
}

/**
 * Every failed attempt sets its own next delay (`nextRetryDelay`, from domain/schedule.ts); the
 * intervals below only apply if the worker dies mid-attempt. No schedule-to-close timeout: it
 * would cut the 30 days short.
 */
const activityOptions = {
  startToCloseTimeout: '2 minutes',
  // The attempt heartbeats while its request runs, so cancelling the batch stops the request.
  heartbeatTimeout: '30 seconds',
  retry: {
    maximumAttempts: MAX_ATTEMPTS,
    initialInterval: '25 seconds',
    backoffCoefficient: 2,
    maximumInterval: '5 days',
  },
} as const;

/** Twice the retry period at scale 1 (about 61 days), for a held batch started without its own limit. */
const HOLD_LIMIT_DEFAULT_MS = 2 * 2_640_625_000;

/** Histories recorded before batches reported their end to the subscription replay without it. */
const REPORT_END_PATCH = 'batch-reports-its-end';

/**
 * The first attempt, run by the worker that holds the batch's workflow task. Only the one attempt:
 * a failure comes back to the workflow, which waits out the schedule's first wait on a timer and
 * hands attempts 2 to 26 to the activity's retry policy.
 */
const { deliverBatch: firstAttempt } = proxyLocalActivities<DeliveryActivities>({
  startToCloseTimeout: activityOptions.startToCloseTimeout,
  retry: { maximumAttempts: 1 },
});

// Lives up to ~30 days: pinned, every deploy would keep the old workers a month. It moves to the
// current version at its next task; a change to it needs a patch (docs/decisions/0011-worker-versioning.md).
setWorkflowOptions(versioningBehavior('AUTO_UPGRADE'), deliveryWorkflow);

/** One batch: delivered, or failed after 26 attempts. Its input records the exact payload. */
export async function deliveryWorkflow(input: DeliveryWorkflowInput): Promise<DeliveryWorkflowResult> {
  const { batchId, partnerId, subscriptionId, url, body } = input;
  let released = input.held !== true;
  setHandler(releaseSignal, () => void (released = true));
  if (!released && !(await condition(() => released, input.holdLimitMs ?? HOLD_LIMIT_DEFAULT_MS))) {
    await reportEnd(input, 'exhausted');
    throw ApplicationFailure.create({
      type: 'BatchDeliveryFailed',
      message: 'not attempted: held behind a failing endpoint for twice its retry period; redeliver it once the endpoint works',
      nonRetryable: true,
    });
  }
  const attempt: DeliverBatchInput = { batchId, partnerId, subscriptionId, url, body, ...(input.held ? { held: true } : {}), ...(input.signing ? { signing: input.signing } : {}) };
  let retries = attempt;
  if (input.localFirstAttempt) {
    try {
      return await delivered(input, await firstAttempt(attempt));
    } catch (err) {
      const failure = lastFailure(err);
      if (failure.nonRetryable) return await failed(input, err, failure.last);
      // The schedule's first wait (or the partner's Retry-After), then the activity takes over at attempt 2.
      await sleep(failure.nextRetryDelayMs ?? activityOptions.retry.initialInterval);
      retries = { ...attempt, attemptsBefore: 1, ...(failure.ledger ? { ledger: failure.ledger } : {}) };
    }
  }
  // The summary names the batch in the Web UI's pending-activity view.
  const { deliverBatch } = proxyActivities<DeliveryActivities>({
    ...activityOptions,
    retry: { ...activityOptions.retry, maximumAttempts: MAX_ATTEMPTS - (retries.attemptsBefore ?? 0) },
    summary: `POST ${input.eventCount} event(s) of batch ${batchId} to ${hostOf(url)}`,
  });
  try {
    return await delivered(input, await deliverBatch(retries));
  } catch (err) {
    return await failed(input, err, lastFailure(err).last);
  }
}

async function delivered(input: DeliveryWorkflowInput, outcome: DeliverBatchResult): Promise<DeliveryWorkflowResult> {
  // A batch that had to retry, was held, or probed: its success may reopen the endpoint gate.
  if (outcome.attempt > 1 || input.held || input.probe) await reportEnd(input, 'recovered');
  return { deliveredAt: outcome.deliveredAt, attempts: outcome.attempt, status: outcome.status, url: outcome.url };
}

/** What an attempt's failure says: the last attempt's error, whether retries stop, the next wait and the Retry-After ledger. */
function lastFailure(err: unknown): { last: ApplicationFailure | undefined; nonRetryable: boolean; nextRetryDelayMs?: number; ledger?: RetryAfterLedger } {
  // An activity's failure wraps the attempt's; a local activity's comes back as the attempt's own
  // (or as its timeout).
  let last: ApplicationFailure | undefined;
  if (err instanceof ActivityFailure) last = err.cause instanceof ApplicationFailure ? err.cause : undefined;
  else if (err instanceof ApplicationFailure) last = err;
  else if (!(err instanceof TimeoutFailure)) throw err;
  // The failure's own nextRetryDelay does not survive the trip back to workflow code: the attempt
  // repeats it in its details (activities/delivery.ts).
  const detail = last?.details?.[0] as { nextRetryDelayMs?: number; ledger?: RetryAfterLedger } | undefined;
  return {
    last,
    nonRetryable: last?.nonRetryable === true,
    ...(typeof detail?.nextRetryDelayMs === 'number' ? { nextRetryDelayMs: detail.nextRetryDelayMs } : {}),
    ...(detail?.ledger ? { ledger: detail.ledger } : {}),
  };
}

/** Ends the batch as Failed, a status the Web UI filters on; the last attempt's error is the cause. */
async function failed(input: DeliveryWorkflowInput, err: unknown, last: ApplicationFailure | undefined): Promise<never> {
  const stopped = last?.type === 'SubscriptionDeleted';
  if (!stopped) await reportEnd(input, 'exhausted');
  throw ApplicationFailure.create({
    type: 'BatchDeliveryFailed',
    message: stopped
      ? `delivery stopped: ${last.message}`
      : `delivery failed after ${MAX_ATTEMPTS} attempts: ${last?.message ?? (err as Error).message}`,
    details: last?.details ?? undefined,
    nonRetryable: true,
    cause: err as Error,
  });
}

/**
 * Tells the subscription how this batch ended, durably (a workflow command, not a best-effort call
 * from an attempt): the endpoint gate depends on hearing it. A subscription that is gone is fine.
 */
async function reportEnd(input: DeliveryWorkflowInput, outcome: EndpointReport['outcome']): Promise<void> {
  // Batches with a local first attempt are all newer than the patch: no marker (and its search attribute) needed.
  if (!input.localFirstAttempt && !patched(REPORT_END_PATCH)) return;
  const subscription = getExternalWorkflowHandle(subscriptionWorkflowId(input.partnerId, input.subscriptionId));
  await subscription.signal(endpointSignal, { batchId: input.batchId, outcome, at: new Date().toISOString() }).catch(() => undefined);
}

function hostOf(url: string): string {
  return /^[a-z]+:\/\/([^/?#]+)/i.exec(url)?.[1] ?? url;
}
