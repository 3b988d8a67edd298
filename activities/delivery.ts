import { ApplicationFailure, Context } from '@temporalio/activity';
import { request, type Dispatcher } from 'undici';
import { endpointSignal, type EndpointReport, type SubscriptionMemo } from '../workflows/messages';
import { EMPTY_LEDGER, GATE_AFTER_FAILED_ATTEMPTS, MAX_ATTEMPTS, type RetryAfterLedger } from '../domain/schedule';
import { subscriptionWorkflowId } from '../workflows/ids';
import { endpointProblem, type EndpointPolicy } from '../domain/endpoint-policy';
import { INITIAL_SIGNING, signatureHeaders, type SigningState } from '../domain/signing';
import { BODY_SNIPPET_BYTES, judgeAttempt, type AttemptOutcome, type AttemptVerdict } from './attempt-outcome';

export interface DeliverBatchInput {
  batchId: string;
  partnerId: string;
  subscriptionId: string;
  /** The endpoint when the batch was cut; retries follow a PATCHed url. */
  url: string;
  body: string;
  /** Was held behind a failing endpoint: even the first attempt reads the current url. */
  held?: boolean;
  /** The subscription's signing state when the batch was cut; retries read the current one. */
  signing?: SigningState;
  /**
   * Attempts made before this activity's first (its workflow's local first attempt): the attempt
   * number an endpoint sees is this plus the activity's own.
   */
  attemptsBefore?: number;
  /** What Retry-After asks cost the batch in those earlier attempts. */
  ledger?: RetryAfterLedger;
}

/** The attempt's number over the whole batch, 1 to 26. */
export function attemptOf(info: { attempt: number }, input: Pick<DeliverBatchInput, 'attemptsBefore'>): number {
  return info.attempt + (input.attemptsBefore ?? 0);
}

export interface DeliverBatchResult {
  status: number;
  attempt: number;
  url: string;
  deliveredAt: string;
}

/** Where attempt outcomes are counted (the worker's /metrics). */
export interface AttemptRecorder {
  record(outcome: 'delivered' | 'failed', status: number | undefined, seconds: number): void;
}

export interface DeliveryDeps {
  agent: { dispatcher(): Dispatcher };
  policy: EndpointPolicy;
  backoffScale: number;
  userAgent?: string;
  metrics?: AttemptRecorder;
  /** WEBHOOK_SIGNING_KEY: every attempt is signed (Standard Webhooks) when set. */
  signingKey?: Buffer;
}

/** How often a running attempt heartbeats, so a cancelled batch stops its request at once. */
const HEARTBEAT_EVERY_MS = 5_000;

export function createDeliveryActivities({ agent, policy, backoffScale, userAgent = 'webhooks/0.1', metrics, signingKey }: DeliveryDeps) {
  /** One attempt: POST the batch's exact bytes. Throws a failure carrying its own next retry delay. */
  async function deliverBatch(input: DeliverBatchInput): Promise<DeliverBatchResult> {
    const context = Context.current();
    const attempt = attemptOf(context.info, input);
    const attemptStartedAt = new Date().toISOString();
    // From the second attempt on (or a held batch's first), the subscription's memo: its current
    // url and its endpoint gate.
    const subscription = attempt === 1 && !input.held ? undefined : await readSubscription(input, attempt);
    const url = subscription?.url ?? input.url;
    // Signed with the subscription's current secret (and the previous one while it still signs);
    // batches and subscriptions from before signatures sign with the first generation.
    const signature = signingKey
      ? signatureHeaders({
          key: signingKey,
          partnerId: input.partnerId,
          subscriptionId: input.subscriptionId,
          signing: subscription?.signing ?? input.signing ?? INITIAL_SIGNING,
          messageId: input.batchId,
          at: new Date(),
          body: input.body,
        })
      : {};
    const startedAt = performance.now();
    // What Retry-After asks cost this batch so far rides on the heartbeat details from attempt to attempt.
    // A local attempt (the first) has no heartbeat: its ledger is empty, and its failure's details carry the next one.
    const ledger = ledgerOf(context.info.heartbeatDetails ?? input.ledger);
    const heartbeat = context.info.isLocal ? undefined : setInterval(() => context.heartbeat(ledger), HEARTBEAT_EVERY_MS);
    let outcome: AttemptOutcome;
    // The policy again at every attempt: a url saved under other settings, or an IP literal (which
    // skips the guarded DNS lookup), is refused here as a failed attempt.
    const refused = endpointProblem(url, policy);
    try {
      outcome = refused
        ? { kind: 'error', code: 'EENDPOINTPOLICY', message: refused }
        : await attemptPost(agent.dispatcher(), url, input.body, {
        'content-type': 'application/json',
        'user-agent': userAgent,
        'webhook-batch-id': input.batchId,
        'webhook-attempt': String(attempt),
        ...signature,
      });
    } finally {
      if (heartbeat) clearInterval(heartbeat);
    }
    const verdict = judgeAttempt(outcome, attempt, backoffScale, { now: Date.now(), ledger });
    const seconds = (performance.now() - startedAt) / 1000;
    const status = outcome.kind === 'response' ? outcome.status : undefined;
    const ids = { batchId: input.batchId, partnerId: input.partnerId, subscriptionId: input.subscriptionId, attempt, status };
    metrics?.record(verdict.delivered ? 'delivered' : 'failed', status, seconds);
    if (verdict.delivered) {
      context.log.info('batch delivered', ids);
      return { status: verdict.status, attempt, url, deliveredAt: new Date().toISOString() };
    }
    context.log.warn('delivery attempt failed', { ...ids, error: verdict.message, nextRetryDelayMs: verdict.nextRetryDelayMs });
    // The endpoint starts failing: said once per outage (while the memo says healthy). The batch's
    // end (recovered, exhausted) is reported by its workflow, durably. The attempt's start time
    // lets the subscription ignore a report older than its last reopening.
    const health = subscription?.endpointHealth;
    if (health && !health.failingSince && attempt >= GATE_AFTER_FAILED_ATTEMPTS && attempt < MAX_ATTEMPTS) {
      await reportEndpoint(input, { batchId: input.batchId, outcome: 'failing', at: attemptStartedAt, error: verdict.message });
    }
    // The failure carries the last heartbeat's details to the next attempt.
    if (verdict.ledger && !context.info.isLocal) context.heartbeat(verdict.ledger);
    throw attemptFailure(verdict);
  }
  return { deliverBatch };
}

/**
 * Where a retry goes: the subscription's current url (its memo, read without involving a worker),
 * so a partner who fixes its endpoint gets its backlog. A deleted subscription's retries stop.
 * Undefined when the subscription could not be read: the url recorded with the batch is used.
 */
async function readSubscription(input: DeliverBatchInput, attempt: number): Promise<SubscriptionMemo['subscription'] | undefined> {
  const context = Context.current();
  let description;
  try {
    description = await context.client.workflow.getHandle(subscriptionWorkflowId(input.partnerId, input.subscriptionId)).describe();
  } catch (err) {
    if ((err as { name?: string }).name === 'WorkflowNotFoundError') throw subscriptionGone(attempt);
    // Temporal is reachable enough to run this attempt: fall back to the url recorded with the batch.
    context.log.warn('could not read the subscription; using the url recorded with the batch', { error: String(err) });
    return undefined;
  }
  if (description.status.name !== 'RUNNING') throw subscriptionGone(attempt);
  return (description.memo as Partial<SubscriptionMemo> | undefined)?.subscription;
}

/** Tells the subscription its endpoint started or stopped failing; a lost report only delays the gate. */
async function reportEndpoint(input: DeliverBatchInput, report: EndpointReport): Promise<void> {
  const context = Context.current();
  try {
    await context.client.workflow.getHandle(subscriptionWorkflowId(input.partnerId, input.subscriptionId)).signal(endpointSignal, report);
  } catch (err) {
    context.log.warn('could not report the endpoint to its subscription', { outcome: report.outcome, error: String(err) });
  }
}

/**
 * A failed attempt. Its details repeat the next delay and the Retry-After ledger: after a local
 * first attempt the workflow reads them (workflow code does not see a failure's nextRetryDelay).
 */
export function attemptFailure(verdict: Extract<AttemptVerdict, { delivered: false }>): ApplicationFailure {
  return ApplicationFailure.create({
    type: 'DeliveryAttemptFailed',
    message: verdict.message,
    details: [{ ...verdict.detail, nextRetryDelayMs: verdict.nextRetryDelayMs, ...(verdict.ledger ? { ledger: verdict.ledger } : {}) }],
    nextRetryDelay: verdict.nextRetryDelayMs,
  });
}

function ledgerOf(details: unknown): RetryAfterLedger {
  const ledger = details as Partial<RetryAfterLedger> | undefined;
  return typeof ledger?.extraMs === 'number' && typeof ledger.repaidMs === 'number' ? { extraMs: ledger.extraMs, repaidMs: ledger.repaidMs } : EMPTY_LEDGER;
}

function subscriptionGone(attempt: number): ApplicationFailure {
  return ApplicationFailure.create({
    type: 'SubscriptionDeleted',
    message: `attempt ${attempt}: the subscription was deleted; retries stopped`,
    details: [{ attempt }],
    nonRetryable: true,
  });
}

async function attemptPost(
  dispatcher: Dispatcher,
  url: string,
  body: string,
  headers: Record<string, string>,
): Promise<AttemptOutcome> {
  const { cancellationSignal } = Context.current();
  try {
    const response = await request(url, { method: 'POST', headers, body, dispatcher, signal: cancellationSignal });
    const retryAfter = response.headers['retry-after'];
    return {
      kind: 'response',
      status: response.statusCode,
      bodySnippet: await readSnippet(response.body),
      ...(typeof retryAfter === 'string' ? { retryAfter } : {}),
    };
  } catch (err) {
    if (cancellationSignal.aborted) throw err;
    const error = err as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
    const code = error.code ?? error.cause?.code ?? error.name ?? 'ERROR';
    const message = error.cause?.message && error.cause.message !== error.message ? `${error.message}: ${error.cause.message}` : error.message;
    return { kind: 'error', code, message };
  }
}

/**
 * Reads no more of a response than the snippet an operator sees, then lets the connection go.
 * A body that stalls past the body timeout or is cut short throws: even a 2xx then fails the attempt.
 */
async function readSnippet(body: AsyncIterable<Buffer> & { destroy(): unknown }): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= BODY_SNIPPET_BYTES) break;
    }
  } finally {
    body.destroy();
  }
  return Buffer.concat(chunks).subarray(0, BODY_SNIPPET_BYTES).toString('utf8');
}

export type DeliveryActivities = ReturnType<typeof createDeliveryActivities>;
