import { WorkflowIdReusePolicy, type Client, type WorkflowExecutionInfo } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import proto from '@temporalio/proto';
import { decodePayload } from '../codec/payload-codec';
import type { Config } from '../domain/config';
import type { BatchStatus } from '../domain/schema';
import type { BatchMemo, DeliveryWorkflowInput, DeliveryWorkflowResult } from '../workflows/delivery';
import type { deliveryWorkflow } from '../workflows/delivery';
import { batchWorkflowId } from '../workflows/ids';
import { partnerIdKey, subscriptionIdKey } from '../workflows/search-attributes';
import { conflict, notFound } from './problem';
import { isGoneError } from './temporal-errors';

export interface BatchSummary {
  batchId: string;
  partnerId: string;
  subscriptionId: string;
  status: BatchStatus;
  eventCount: number;
  /** The order in which the subscription cut its batches: 1, 2, 3, … */
  sequence: number;
  createdAt: string;
  deliveredAt?: string;
}

export interface BatchDetail extends BatchSummary {
  /** Attempts made so far (26 at most per delivery run). */
  attempts: number;
  lastError?: string;
  /** When a pending batch will be tried next. */
  nextAttemptAt?: string;
  payload: unknown;
}

type Failure = proto.temporal.api.failure.v1.IFailure;
const { PendingActivityState } = proto.temporal.api.enums.v1;

/** How many batches a listing returns at most, newest first. */
export const BATCH_LIST_LIMIT = 500;

const STATUS_OF: Record<string, BatchStatus | undefined> = {
  RUNNING: 'pending',
  COMPLETED: 'delivered',
  FAILED: 'failed',
  TERMINATED: 'failed',
  TIMED_OUT: 'failed',
  CANCELLED: 'failed',
};

/**
 * Batches live in Temporal: one delivery workflow each, whose history holds the exact payload.
 * Reads go to that history (no worker needed) and to the visibility store for listings.
 */
export class BatchStore {
  constructor(
    private readonly client: Client,
    private readonly config: Config,
  ) {}

  async get(batchId: string): Promise<BatchDetail> {
    const handle = this.client.workflow.getHandle(batchWorkflowId(batchId));
    const [description, history] = await Promise.all([handle.describe(), handle.fetchHistory()]).catch(
      (err: unknown) => {
        throw isGoneError(err) ? notFound(`there is no batch ${batchId}`) : err;
      },
    );
    const events = history.events ?? [];
    const input = await this.decodeFirst<DeliveryWorkflowInput>(
      events[0]?.workflowExecutionStartedEventAttributes?.input?.payloads,
    );
    if (!input) throw notFound(`there is no batch ${batchId}`);
    const status = STATUS_OF[description.status.name] ?? 'pending';
    const detail: BatchDetail = {
      batchId: input.batchId,
      partnerId: input.partnerId,
      subscriptionId: input.subscriptionId,
      status,
      eventCount: input.eventCount,
      sequence: input.sequence,
      createdAt: input.createdAt,
      attempts: 0,
      payload: JSON.parse(input.body) as unknown,
    };
    const closing = events[events.length - 1];
    if (status === 'delivered') {
      const result = await this.decodeFirst<DeliveryWorkflowResult>(
        closing?.workflowExecutionCompletedEventAttributes?.result?.payloads,
      );
      detail.attempts = result?.attempts ?? 1;
      detail.deliveredAt = result?.deliveredAt;
    } else if (status === 'failed') {
      const failure = closing?.workflowExecutionFailedEventAttributes?.failure ?? undefined;
      detail.attempts = (await this.attemptOfFailure(failure)) ?? 0;
      detail.lastError = innermostMessage(failure);
    } else {
      const pending = description.raw.pendingActivities?.[0];
      if (pending) {
        const started = pending.state === PendingActivityState.PENDING_ACTIVITY_STATE_STARTED;
        detail.attempts = Math.max(0, (pending.attempt ?? 1) - (started ? 0 : 1));
        if (pending.lastFailure) detail.lastError = innermostMessage(pending.lastFailure);
        const next = pending.nextAttemptScheduleTime ?? (started ? undefined : pending.scheduledTime);
        if (next?.seconds != null) {
          detail.nextAttemptAt = new Date(Number(next.seconds) * 1000 + Math.floor((next.nanos ?? 0) / 1e6)).toISOString();
        }
      }
    }
    return detail;
  }

  /** The subscription's batches, newest first (the latest run of each batch), optionally by status. */
  async list(partnerId: string, subscriptionId: string, status?: BatchStatus): Promise<BatchSummary[]> {
    const query =
      `WorkflowType = 'deliveryWorkflow' AND ${partnerIdKey.name} = '${partnerId}'` +
      ` AND ${subscriptionIdKey.name} = '${subscriptionId}'`;
    const latestRun = new Map<string, WorkflowExecutionInfo>();
    for await (const execution of this.client.workflow.list({ query })) {
      const seen = latestRun.get(execution.workflowId);
      if (!seen || seen.startTime < execution.startTime) latestRun.set(execution.workflowId, execution);
    }
    const batches = [...latestRun.values()].map((execution) => summarize(execution, partnerId, subscriptionId));
    return batches
      .filter((batch) => !status || batch.status === status)
      .sort((a, b) => b.sequence - a.sequence || b.createdAt.localeCompare(a.createdAt))
      .slice(0, BATCH_LIST_LIMIT);
  }

  /** Starts a failed batch again: same input, so the same bytes and batch_id, and a fresh 26 attempts. */
  async redeliver(batchId: string): Promise<void> {
    const workflowId = batchWorkflowId(batchId);
    const handle = this.client.workflow.getHandle(workflowId);
    const [description, history] = await Promise.all([handle.describe(), handle.fetchHistory()]).catch(
      (err: unknown) => {
        throw isGoneError(err) ? notFound(`there is no batch ${batchId}`) : err;
      },
    );
    const status = STATUS_OF[description.status.name] ?? 'pending';
    if (status !== 'failed') throw conflict(`batch ${batchId} is ${status}; only a failed batch can be redelivered`);
    const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
    const recorded = await this.decodeFirst<DeliveryWorkflowInput>(started?.input?.payloads);
    if (!recorded) throw notFound(`there is no batch ${batchId}`);
    // Same bytes and batch_id; never held again (nothing would release it), and its success
    // reopens its subscription's endpoint gate if that is still closed.
    const { held: _held, holdLimitMs: _limit, ...rest } = recorded;
    const input: DeliveryWorkflowInput = { ...rest, probe: true };
    await this.client.workflow.start<typeof deliveryWorkflow>('deliveryWorkflow', {
      workflowId,
      taskQueue: this.config.temporal.taskQueue,
      args: [input],
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
      typedSearchAttributes: description.typedSearchAttributes,
      memo: description.memo,
      staticSummary: `Redelivery of ${input.eventCount} event(s) for partner ${input.partnerId} / subscription ${input.subscriptionId}`,
    });
  }

  /** Histories come as stored: their payloads go through the codec (decryption) before use. */
  private get dataConverter(): DataConverter {
    return this.config.temporal.dataConverter;
  }

  private async decodeFirst<T>(payloads: proto.temporal.api.common.v1.IPayload[] | null | undefined): Promise<T | undefined> {
    const first = payloads?.[0];
    return first ? decodePayload<T>(this.dataConverter, first) : undefined;
  }

  /** The attempt number an activity failure recorded in its details (see activities/attempt-outcome.ts). */
  private async attemptOfFailure(failure: Failure | null | undefined): Promise<number | undefined> {
    for (let current = failure; current; current = current.cause) {
      const details = await this.decodeFirst<{ attempt?: number }>(current.applicationFailureInfo?.details?.payloads);
      if (typeof details?.attempt === 'number') return details.attempt;
    }
    return undefined;
  }
}

function summarize(execution: WorkflowExecutionInfo, partnerId: string, subscriptionId: string): BatchSummary {
  const memo = execution.memo as Partial<BatchMemo> | undefined;
  const status = STATUS_OF[execution.status.name] ?? 'pending';
  return {
    batchId: execution.workflowId.replace(/^batch:/, ''),
    partnerId,
    subscriptionId,
    status,
    eventCount: memo?.batch?.eventCount ?? 0,
    sequence: memo?.batch?.sequence ?? 0,
    createdAt: memo?.batch?.createdAt ?? execution.startTime.toISOString(),
    ...(status === 'delivered' && execution.closeTime ? { deliveredAt: execution.closeTime.toISOString() } : {}),
  };
}

function innermostMessage(failure: Failure | null | undefined): string | undefined {
  let current = failure;
  while (current?.cause) current = current.cause;
  return current?.message ?? undefined;
}

