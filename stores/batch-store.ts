import { createHash } from 'node:crypto';
import { WorkflowIdReusePolicy, type Client } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import proto from '@temporalio/proto';
import { decodePayload } from '../codec/payload-codec';
import type { Config } from '../platform/config';
import type { BatchStatus } from '../domain/schema';
import type { BatchMemo, DeliveryWorkflowInput, DeliveryWorkflowResult } from '../workflows/delivery';
import type { deliveryWorkflow } from '../workflows/delivery';
import { batchWorkflowId } from '../workflows/ids';
import { partnerIdKey, subscriptionIdKey } from '../workflows/search-attributes';
import { ConflictError, InvalidInputError, NotFoundError } from '../domain/errors';
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
const { PendingActivityState, WorkflowExecutionStatus } = proto.temporal.api.enums.v1;

/** How many batches a page holds at most, and by default. */
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
        throw isGoneError(err) ? new NotFoundError(`there is no batch ${batchId}`) : err;
      },
    );
    let events = history.events ?? [];
    // Read side by side, the description can be the newer: closed, with a history read just before
    // its closing event. Then the history again, which has it (the attempts of a failed batch are there).
    if (description.status.name !== 'RUNNING' && !isClosingEvent(events[events.length - 1])) events = (await handle.fetchHistory()).events ?? [];
    const input = await this.decodeFirst<DeliveryWorkflowInput>(
      events[0]?.workflowExecutionStartedEventAttributes?.input?.payloads,
    );
    if (!input) throw new NotFoundError(`there is no batch ${batchId}`);
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
      // Since 2026-12-07 the first attempt is a local activity: its outcome is a marker in the history.
      const local = localAttemptFailure(events);
      const before = local ? 1 : 0;
      const pending = description.raw.pendingActivities?.[0];
      if (pending) {
        const started = pending.state === PendingActivityState.PENDING_ACTIVITY_STATE_STARTED;
        detail.attempts = before + Math.max(0, (pending.attempt ?? 1) - (started ? 0 : 1));
        const lastFailure = pending.lastFailure ?? local?.failure;
        if (lastFailure) detail.lastError = innermostMessage(lastFailure);
        const next = pending.nextAttemptScheduleTime ?? (started ? undefined : pending.scheduledTime);
        if (next?.seconds != null) detail.nextAttemptAt = timestampToDate(next)?.toISOString();
      } else if (local) {
        // Waiting out the first retry wait on a timer before the activity takes over.
        detail.attempts = 1;
        detail.lastError = innermostMessage(local.failure);
        if (local.retryAt) detail.nextAttemptAt = local.retryAt.toISOString();
      }
    }
    return detail;
  }

  /**
   * One page of the subscription's batches, in the visibility store's order (pending ones first,
   * then by when they ended, newest first), optionally by status. `cursor` is the previous page's
   * `nextCursor`: Temporal's visibility page token. A redelivered batch is listed once, with the
   * state of its latest run, so a page may hold fewer than `limit`.
   */
  async page(partnerId: string, subscriptionId: string, { status, limit = BATCH_LIST_LIMIT, cursor }: BatchPageOptions = {}): Promise<BatchPage> {
    const statusCondition = status ? ` AND (${VISIBILITY_STATUSES[status].map((name) => `ExecutionStatus = '${name}'`).join(' OR ')})` : '';
    const query =
      `WorkflowType = 'deliveryWorkflow' AND ${partnerIdKey.name} = '${partnerId}'` +
      ` AND ${subscriptionIdKey.name} = '${subscriptionId}'${statusCondition}`;
    const nextPageToken = cursor === undefined ? undefined : tokenOfCursor(cursor, query);
    const response = await this.client.workflowService.listWorkflowExecutions({ namespace: this.config.temporal.namespace, query, pageSize: limit, nextPageToken });
    const batches: BatchSummary[] = [];
    for (const raw of response.executions ?? []) {
      const execution = await this.fromVisibility(raw);
      // A failed run that was redelivered is not the batch's state any more: its latest run is.
      if (STATUS_OF[execution.statusName] === 'failed' && (await this.isSuperseded(execution))) continue;
      batches.push(summarize(execution, partnerId, subscriptionId));
    }
    const token = response.nextPageToken;
    return { batches, nextCursor: token && token.length > 0 ? cursorOfToken(Buffer.from(token), query) : null };
  }

  private async fromVisibility(raw: proto.temporal.api.workflow.v1.IWorkflowExecutionInfo): Promise<VisibleExecution> {
    const memoPayload = raw.memo?.fields?.batch;
    return {
      workflowId: raw.execution?.workflowId ?? '',
      runId: raw.execution?.runId ?? '',
      statusName: (WorkflowExecutionStatus[raw.status ?? 0] ?? '').replace('WORKFLOW_EXECUTION_STATUS_', ''),
      memo: memoPayload ? { batch: await decodePayload<BatchMemo['batch']>(this.dataConverter, memoPayload) } : undefined,
      startTime: timestampToDate(raw.startTime) ?? new Date(0),
      closeTime: timestampToDate(raw.closeTime),
    };
  }

  private async isSuperseded(execution: VisibleExecution): Promise<boolean> {
    const latest = await this.client.workflow.getHandle(execution.workflowId).describe().catch(() => undefined);
    return latest !== undefined && latest.runId !== execution.runId;
  }

  /** Starts a failed batch again: same input, so the same bytes and batch_id, and a fresh 26 attempts. */
  async redeliver(batchId: string): Promise<void> {
    const workflowId = batchWorkflowId(batchId);
    const handle = this.client.workflow.getHandle(workflowId);
    const [description, history] = await Promise.all([handle.describe(), handle.fetchHistory()]).catch(
      (err: unknown) => {
        throw isGoneError(err) ? new NotFoundError(`there is no batch ${batchId}`) : err;
      },
    );
    const status = STATUS_OF[description.status.name] ?? 'pending';
    if (status !== 'failed') throw new ConflictError(`batch ${batchId} is ${status}; only a failed batch can be redelivered`);
    const started = history.events?.[0]?.workflowExecutionStartedEventAttributes;
    const recorded = await this.decodeFirst<DeliveryWorkflowInput>(started?.input?.payloads);
    if (!recorded) throw new NotFoundError(`there is no batch ${batchId}`);
    // Same bytes and batch_id; never held again (nothing would release it), and its success
    // reopens its subscription's endpoint gate if that is still closed.
    const { held: _held, holdLimitMs: _limit, ...rest } = recorded;
    const input: DeliveryWorkflowInput = { ...rest, probe: true, localFirstAttempt: true };
    await this.client.workflow.start<typeof deliveryWorkflow>('deliveryWorkflow', {
      workflowId,
      taskQueue: this.config.temporal.taskQueue,
      args: [input],
      workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
      // Ours only: Temporal's own (TemporalWorkerDeploymentVersion, …) are its to set, and it refuses them.
      typedSearchAttributes: description.typedSearchAttributes.getAll().filter((pair) => !pair.key.name.startsWith('Temporal')),
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

/** What a listing needs of one execution, from a visibility record. */
interface VisibleExecution {
  workflowId: string;
  runId: string;
  statusName: string;
  memo: Partial<BatchMemo> | undefined;
  startTime: Date;
  closeTime: Date | undefined;
}

export interface BatchPageOptions {
  status?: BatchStatus;
  /** At most this many batches (1 to 500). */
  limit?: number;
  /** Where the previous page ended: its `nextCursor`. */
  cursor?: string;
}

export interface BatchPage {
  batches: BatchSummary[];
  /** The next page's cursor; null on the last page. */
  nextCursor: string | null;
}

/** The visibility statuses behind each batch status (docs/operations.md). */
const VISIBILITY_STATUSES: Record<BatchStatus, string[]> = {
  pending: ['Running'],
  delivered: ['Completed'],
  failed: ['Failed', 'Terminated', 'TimedOut', 'Canceled'],
};

/**
 * A cursor is Temporal's page token, tagged with the listing it belongs to: a version byte and 8
 * bytes of the query's SHA-256. The server answers a token it cannot read with a bare UNKNOWN
 * error, so a cursor that is not one of ours, or belongs to another listing, is refused here (400).
 */
const CURSOR_VERSION = 1;
function cursorOfToken(token: Buffer, query: string): string {
  return Buffer.concat([Buffer.from([CURSOR_VERSION]), queryTag(query), token]).toString('base64url');
}
function tokenOfCursor(cursor: string, query: string): Buffer {
  const bytes = Buffer.from(cursor, 'base64url');
  if (bytes.length <= 9 || bytes[0] !== CURSOR_VERSION || !bytes.subarray(1, 9).equals(queryTag(query))) {
    throw new InvalidInputError('cursor: not the nextCursor of this listing (same subscription and status)', [{ path: 'cursor', message: 'not the nextCursor of this listing' }]);
  }
  return bytes.subarray(9);
}
function queryTag(query: string): Buffer {
  return createHash('sha256').update(query).digest().subarray(0, 8);
}

function timestampToDate(timestamp: proto.google.protobuf.ITimestamp | null | undefined): Date | undefined {
  if (!timestamp?.seconds) return undefined;
  return new Date(Number(timestamp.seconds) * 1000 + Math.floor((timestamp.nanos ?? 0) / 1e6));
}

function summarize(execution: VisibleExecution, partnerId: string, subscriptionId: string): BatchSummary {
  const memo = execution.memo;
  const status = STATUS_OF[execution.statusName] ?? 'pending';
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

/** The marker a local activity leaves in the history (the SDK's name for it). */
const LOCAL_ACTIVITY_MARKER = 'core_local_activity';

/**
 * A failed local first attempt, if the history has one: its failure, and when the timer after it
 * fires (the second attempt's time, while no activity is scheduled yet).
 */
function localAttemptFailure(events: proto.temporal.api.history.v1.IHistoryEvent[]): { failure: Failure; retryAt?: Date } | undefined {
  const index = events.findIndex((event) => event.markerRecordedEventAttributes?.markerName === LOCAL_ACTIVITY_MARKER);
  const failure = events[index]?.markerRecordedEventAttributes?.failure;
  if (!failure) return undefined;
  const timer = events.slice(index + 1).find((event) => event.timerStartedEventAttributes);
  const startedAt = timer ? timestampToDate(timer.eventTime) : undefined;
  const wait = timer?.timerStartedEventAttributes?.startToFireTimeout;
  const waitMs = wait ? Number(wait.seconds ?? 0) * 1000 + Math.floor((wait.nanos ?? 0) / 1e6) : undefined;
  return { failure, ...(startedAt && waitMs !== undefined ? { retryAt: new Date(startedAt.getTime() + waitMs) } : {}) };
}

function innermostMessage(failure: Failure | null | undefined): string | undefined {
  let current = failure;
  while (current?.cause) current = current.cause;
  return current?.message ?? undefined;
}

/** Whether `event` closes a run (completed, failed, timed out, terminated, cancelled, continued as new). */
function isClosingEvent(event: proto.temporal.api.history.v1.IHistoryEvent | undefined): boolean {
  const type = event?.eventType;
  const { EventType } = proto.temporal.api.enums.v1;
  return (
    type === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_COMPLETED ||
    type === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED ||
    type === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT ||
    type === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_TERMINATED ||
    type === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CANCELED ||
    type === EventType.EVENT_TYPE_WORKFLOW_EXECUTION_CONTINUED_AS_NEW
  );
}
