import { ApplicationFailure, Context } from '@temporalio/activity';
import { request, type Dispatcher } from 'undici';
import { BODY_SNIPPET_BYTES, judgeAttempt, type AttemptOutcome } from './attempt-outcome';

export interface DeliverBatchInput {
  batchId: string;
  url: string;
  body: string;
}

export interface DeliverBatchResult {
  status: number;
  attempt: number;
  deliveredAt: string;
}

export interface DeliveryDeps {
  dispatcher: Dispatcher;
  backoffScale: number;
  userAgent?: string;
}

export function createDeliveryActivities({ dispatcher, backoffScale, userAgent = 'webhooks/0.1' }: DeliveryDeps) {
  /** One attempt: POST the batch's exact bytes. Throws a failure carrying its own next retry delay. */
  async function deliverBatch({ batchId, url, body }: DeliverBatchInput): Promise<DeliverBatchResult> {
    const { attempt } = Context.current().info;
    const outcome = await attemptPost(dispatcher, url, body, {
      'content-type': 'application/json',
      'user-agent': userAgent,
      'webhook-batch-id': batchId,
      'webhook-attempt': String(attempt),
    });
    const verdict = judgeAttempt(outcome, attempt, backoffScale);
    if (verdict.delivered) return { status: verdict.status, attempt, deliveredAt: new Date().toISOString() };
    throw ApplicationFailure.create({
      type: 'DeliveryAttemptFailed',
      message: verdict.message,
      details: [verdict.detail],
      nextRetryDelay: verdict.nextRetryDelayMs,
    });
  }
  return { deliverBatch };
}

async function attemptPost(
  dispatcher: Dispatcher,
  url: string,
  body: string,
  headers: Record<string, string>,
): Promise<AttemptOutcome> {
  try {
    const response = await request(url, {
      method: 'POST',
      headers,
      body,
      dispatcher,
      signal: Context.current().cancellationSignal,
    });
    return { kind: 'response', status: response.statusCode, bodySnippet: await readSnippet(response.body) };
  } catch (err) {
    if (Context.current().cancellationSignal.aborted) throw err;
    const error = err as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
    const code = error.code ?? error.cause?.code ?? error.name ?? 'ERROR';
    return { kind: 'error', code, message: error.message };
  }
}

/** Reads no more of a response than the snippet an operator sees, then lets the connection go. */
async function readSnippet(body: AsyncIterable<Buffer> & { destroy(): unknown }): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of body) {
      chunks.push(chunk);
      size += chunk.length;
      if (size >= BODY_SNIPPET_BYTES) break;
    }
  } catch {
    // A body cut short still leaves us the status; the snippet is best effort.
  } finally {
    body.destroy();
  }
  return Buffer.concat(chunks).subarray(0, BODY_SNIPPET_BYTES).toString('utf8');
}
