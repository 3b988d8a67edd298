import { ApplicationFailure, Context } from '@temporalio/activity';
import { BatchStore } from '../stores/batch-store';
import { ConflictError, InvalidInputError, NotFoundError } from '../domain/errors';
import type { Config } from '../platform/config';
import { partnerIdKey, subscriptionIdKey } from '../workflows/search-attributes';

/**
 * The activities of a bulk recovery (workflows/recovery.ts): finding a subscription's failed
 * batches cut in a range, redelivering one, and counting how the redelivered ones ended. They read
 * Temporal's visibility store and start workflows through the activity's client.
 */
export interface FailedBatchesQuery {
  partnerId: string;
  subscriptionId: string;
  since: string;
  until: string;
  max: number;
}

export interface EndedQuery {
  partnerId: string;
  subscriptionId: string;
  since: string;
  until: string;
  /** When the recovery started: runs started since then are its redeliveries. */
  startedAt: string;
}

export function createRecoveryActivities(config: Config) {
  const store = () => new BatchStore(Context.current().client, config);

  /** The failed batches cut in the range, oldest first (each once, by its latest run), at most `max`. */
  async function findFailedBatches({ partnerId, subscriptionId, since, until, max }: FailedBatchesQuery): Promise<string[]> {
    const found: { batchId: string; createdAt: string; sequence: number }[] = [];
    let cursor: string | undefined;
    do {
      const page = await store().page(partnerId, subscriptionId, { status: 'failed', limit: 500, ...(cursor ? { cursor } : {}) });
      for (const batch of page.batches) {
        if (batch.createdAt >= since && batch.createdAt <= until) found.push(batch);
      }
      cursor = page.nextCursor ?? undefined;
      Context.current().heartbeat();
    } while (cursor);
    return found
      .sort((a, b) => a.sequence - b.sequence || a.createdAt.localeCompare(b.createdAt))
      .slice(0, max)
      .map((batch) => batch.batchId);
  }

  /** Starts a failed batch again; false when it is not failed any more (someone redelivered it meanwhile). */
  async function redeliverFailedBatch(batchId: string): Promise<boolean> {
    try {
      await store().redeliver(batchId);
      return true;
    } catch (err) {
      if (err instanceof ConflictError || err instanceof NotFoundError) return false;
      if (err instanceof InvalidInputError) throw ApplicationFailure.nonRetryable(err.message, 'RedeliveryRefused');
      throw err;
    }
  }

  /** How the batches of the range that were started again since the recovery began stand now. */
  async function countEnded({ partnerId, subscriptionId, since, until, startedAt }: EndedQuery): Promise<{ delivered: number; failed: number; running: number }> {
    const { client } = Context.current();
    const query =
      `WorkflowType = 'deliveryWorkflow' AND ${partnerIdKey.name} = '${partnerId}' AND ${subscriptionIdKey.name} = '${subscriptionId}'` +
      ` AND StartTime >= '${startedAt}'`;
    const counts = { delivered: 0, failed: 0, running: 0 };
    for await (const execution of client.workflow.list({ query })) {
      const memo = execution.memo as { batch?: { createdAt?: string } } | undefined;
      const createdAt = memo?.batch?.createdAt;
      // New batches cut since the recovery began are not its redeliveries.
      if (!createdAt || createdAt < since || createdAt > until) continue;
      const status = execution.status.name;
      if (status === 'COMPLETED') counts.delivered++;
      else if (status === 'RUNNING') counts.running++;
      else counts.failed++;
    }
    return counts;
  }

  return { findFailedBatches, redeliverFailedBatch, countEnded };
}

export type RecoveryActivities = ReturnType<typeof createRecoveryActivities>;
