/**
 * What a step cost in Temporal's own units, read back from the histories it wrote: every workflow
 * run open during the step (visibility: running, or closed since the step began), each history
 * read in full, and its events that happened inside the step counted by kind and by bytes. These
 * figures do not depend on the machine's speed, and they are what a Temporal Cloud bill counts.
 */
import type { Client } from '@temporalio/client';
import proto from '@temporalio/proto';

const { temporal } = proto;
type HistoryEvent = proto.temporal.api.history.v1.IHistoryEvent;
const EventType = temporal.api.enums.v1.EventType;

export interface TemporalCost {
  /** Workflow runs touched by the step (subscriptions, their continued runs, batches). */
  runs: number;
  /** History events written in the step, and their encoded bytes. */
  historyEvents: number;
  historyBytes: number;
  /** Runs started (a batch's child workflow, a continue-as-new run). */
  workflowStarts: number;
  childStarts: number;
  signals: number;
  /** Signals a workflow sent to another (the gate's releases). */
  externalSignals: number;
  updates: number;
  /** Activity attempts: each started activity's attempt number (retries included), and each local activity. */
  activityAttempts: number;
  timers: number;
  /** Memo or search-attribute changes. */
  upserts: number;
  workflowTasks: number;
  /**
   * Workflow tasks by what woke them: the first event after the previous task (a signal, the
   * run's start, a timer, a batch's start or end, an activity's result, …).
   */
  workflowTasksByCause: Record<string, number>;
  /** Workflow tasks that failed or timed out: zero in a healthy run. */
  workflowTaskFailures: number;
  /**
   * Workflow tasks that failed, or took SLOW_TASK_MS or more from scheduled to closed: what a
   * stall is made of (a failed continue-as-new and the replay after it, a task queued behind others).
   */
  slowWorkflowTasks: { workflowId: string; at: string; queuedMs: number; ranMs: number; outcome: string; cause?: string; historyEvents: number }[];
  /**
   * Billable actions as Temporal Cloud counts them, approximately: runs started, signals (received
   * and sent), updates, activity attempts, timers, and memo/search-attribute upserts.
   */
  actions: number;
}

/** A workflow task this slow (scheduled to closed) is listed in `slowWorkflowTasks`. */
const SLOW_TASK_MS = 500;

const millis = (event: HistoryEvent) => Number(event.eventTime?.seconds ?? 0) * 1000 + (event.eventTime?.nanos ?? 0) / 1e6;

/** Events that wake a workflow (a task is scheduled for them); the rest are a task's own commands. */
const WAKING_EVENTS = new Set<number>([
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED,
  EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED,
  EventType.EVENT_TYPE_TIMER_FIRED,
  EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED,
  EventType.EVENT_TYPE_ACTIVITY_TASK_FAILED,
  EventType.EVENT_TYPE_ACTIVITY_TASK_TIMED_OUT,
  EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED,
  EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_COMPLETED,
  EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_FAILED,
  EventType.EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_TERMINATED,
  EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_FAILED,
  EventType.EVENT_TYPE_EXTERNAL_WORKFLOW_EXECUTION_SIGNALED,
  EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_FAILED,
]);

/** `EVENT_TYPE_CHILD_WORKFLOW_EXECUTION_STARTED` → `child workflow execution started`. */
function causeName(type: number): string {
  return (EventType[type] ?? String(type)).replace(/^EVENT_TYPE_/, '').toLowerCase().replace(/_/g, ' ');
}

/** Counts what happened in Temporal between `fromMs` and `toMs` (epoch milliseconds). */
/** Nothing counted yet (also the cost of a system without Temporal, a peer's). */
export function noTemporalCost(): TemporalCost {
  return {
    runs: 0,
    historyEvents: 0,
    historyBytes: 0,
    workflowStarts: 0,
    childStarts: 0,
    signals: 0,
    externalSignals: 0,
    updates: 0,
    activityAttempts: 0,
    timers: 0,
    upserts: 0,
    workflowTasks: 0,
    workflowTasksByCause: {},
    workflowTaskFailures: 0,
    slowWorkflowTasks: [],
    actions: 0,
  };
}

export async function temporalCost(client: Client, namespace: string, fromMs: number, toMs: number): Promise<TemporalCost> {
  const cost = noTemporalCost();
  const since = new Date(fromMs).toISOString();
  const runs: { workflowId: string; runId: string }[] = [];
  for await (const execution of client.workflow.list({ query: `ExecutionStatus = 'Running' OR CloseTime >= '${since}'` })) {
    runs.push({ workflowId: execution.workflowId, runId: execution.runId });
  }
  cost.runs = runs.length;
  const count = (event: HistoryEvent, task: { scheduledAt: number; startedAt: number; cause?: string }, workflowId: string) => {
    const at = millis(event);
    const type = event.eventType ?? 0;
    if (WAKING_EVENTS.has(type)) task.cause ??= causeName(type);
    const taskClosed = type === EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED || type === EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED || type === EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT;
    const cause = task.cause ?? 'other (an update, a retried task)';
    if (taskClosed) task.cause = undefined;
    if (event.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED) task.scheduledAt = at;
    if (event.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_STARTED) task.startedAt = at;
    if (at < fromMs || at > toMs) return;
    cost.historyEvents++;
    cost.historyBytes += temporal.api.history.v1.HistoryEvent.encode(event).finish().length;
    switch (event.eventType) {
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED:
        cost.workflowStarts++;
        break;
      case EventType.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED:
        cost.childStarts++;
        break;
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED:
        cost.signals++;
        break;
      case EventType.EVENT_TYPE_SIGNAL_EXTERNAL_WORKFLOW_EXECUTION_INITIATED:
        cost.externalSignals++;
        break;
      case EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED:
        cost.updates++;
        break;
      case EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
        cost.activityAttempts += event.activityTaskStartedEventAttributes?.attempt ?? 1;
        break;
      case EventType.EVENT_TYPE_TIMER_STARTED:
        cost.timers++;
        break;
      case EventType.EVENT_TYPE_MARKER_RECORDED:
        // A local activity (a batch's first attempt) is billed like an activity; patch markers are not.
        if (event.markerRecordedEventAttributes?.markerName === 'core_local_activity') cost.activityAttempts++;
        break;
      case EventType.EVENT_TYPE_WORKFLOW_PROPERTIES_MODIFIED:
      case EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES:
        cost.upserts++;
        break;
      case EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
      case EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED:
      case EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT: {
        cost.workflowTasks++;
        cost.workflowTasksByCause[cause] = (cost.workflowTasksByCause[cause] ?? 0) + 1;
        const failed = event.eventType !== EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED;
        if (failed) cost.workflowTaskFailures++;
        if (failed || at - task.scheduledAt >= SLOW_TASK_MS) {
          cost.slowWorkflowTasks.push({
            workflowId,
            at: new Date(task.scheduledAt).toISOString(),
            queuedMs: Math.round(task.startedAt - task.scheduledAt),
            ranMs: Math.round(at - task.startedAt),
            outcome: failed ? 'failed' : 'completed',
            ...(event.workflowTaskFailedEventAttributes ? { cause: proto.temporal.api.enums.v1.WorkflowTaskFailedCause[event.workflowTaskFailedEventAttributes.cause ?? 0] } : {}),
            // A timeout is START_TO_CLOSE (the worker that took the task died or hung) or SCHEDULE_TO_START (a sticky queue nobody polled).
            ...(event.workflowTaskTimedOutEventAttributes ? { cause: proto.temporal.api.enums.v1.TimeoutType[event.workflowTaskTimedOutEventAttributes.timeoutType ?? 0] } : {}),
            historyEvents: Number(event.eventId),
          });
        }
        break;
      }
    }
  };
  const queue = [...runs];
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      for (let run = queue.shift(); run; run = queue.shift()) {
        let nextPageToken: Uint8Array | undefined;
        const task: { scheduledAt: number; startedAt: number; cause?: string } = { scheduledAt: 0, startedAt: 0 };
        do {
          const page = await client.workflowService.getWorkflowExecutionHistory({ namespace, execution: run, nextPageToken, maximumPageSize: 1000 });
          for (const event of page.history?.events ?? []) count(event, task, run.workflowId);
          nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
        } while (nextPageToken);
      }
    }),
  );
  cost.actions = cost.workflowStarts + cost.signals + cost.externalSignals + cost.updates + cost.activityAttempts + cost.timers + cost.upserts;
  return cost;
}

/** The same figures per 1,000 accepted events (history bytes per event). */
export function perThousandEvents(cost: TemporalCost, events: number) {
  const per = (n: number) => +((n / Math.max(1, events)) * 1000).toFixed(1);
  return {
    actions: per(cost.actions),
    signals: per(cost.signals),
    workflowStarts: per(cost.workflowStarts),
    activityAttempts: per(cost.activityAttempts),
    timers: per(cost.timers),
    workflowTasks: per(cost.workflowTasks),
    /** Workflow tasks of the subscriptions and their batches together, per batch started. */
    workflowTasksPerBatch: cost.childStarts > 0 ? +(cost.workflowTasks / cost.childStarts).toFixed(2) : null,
    /** The same, by what woke each task. */
    workflowTasksPerBatchByCause: Object.fromEntries(Object.entries(cost.workflowTasksByCause).map(([cause, n]) => [cause, cost.childStarts > 0 ? +(n / cost.childStarts).toFixed(2) : null])),
    historyBytesPerEvent: Math.round(cost.historyBytes / Math.max(1, events)),
  };
}
