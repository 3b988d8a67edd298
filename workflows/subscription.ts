import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  getExternalWorkflowHandle,
  log,
  makeContinueAsNewFunc,
  metricMeter,
  ParentClosePolicy,
  setHandler,
  startChild,
  upsertMemo,
  uuid4,
  workflowInfo,
} from '@temporalio/workflow';
import { decideBatch } from '../domain/batching';
import { buildPayloadBody } from '../domain/payload';
import type { WebhookEvent } from '../domain/schema';
import { deliveryWorkflow, type BatchMemo, type DeliveryWorkflowInput } from './delivery';
import { batchWorkflowId } from './ids';
import { retryHorizonMs } from '../domain/schedule';
import { configureUpdate, deleteUpdate, endpointSignal, eventsSignal, releaseSignal, stateQuery, type SubscriptionMemo } from './messages';
import { batchIdKey, eventCountKey, eventTypesKey, partnerIdKey, subscriptionIdKey, eventTypesForSearch } from './search-attributes';
import { SubscriptionState, type SubscriptionWorkflowInput } from './subscription-state';

export type { SubscriptionWorkflowInput } from './subscription-state';

/**
 * One long-lived workflow per subscription: collects signalled events and cuts batches by the
 * rule in domain/batching.ts; each batch becomes a child delivery workflow that outlives this run.
 */
export async function subscriptionWorkflow(input: SubscriptionWorkflowInput): Promise<void> {
  const sub = new SubscriptionState(input);

  setHandler(eventsSignal, ({ events }) => sub.accept(events));
  setHandler(
    configureUpdate,
    (patch) => {
      sub.configure(patch, new Date().toISOString());
      upsertMemo(memoOf(sub));
      return sub.view();
    },
    {
      validator: (_patch) => {
        if (sub.deleting) throw ApplicationFailure.nonRetryable('the subscription is deleted', 'SubscriptionDeleted');
      },
    },
  );
  setHandler(deleteUpdate, async () => {
    sub.markDeleting();
    await condition(() => sub.pending.length === 0);
  });
  setHandler(stateQuery, () => sub.view());
  setHandler(endpointSignal, (report) => {
    if (!sub.reportEndpoint(report)) return;
    log.info('endpoint gate changed', { partnerId: sub.partnerId, subscriptionId: sub.subscriptionId, ...report, enabled: sub.gate.enabled });
    upsertMemo(memoOf(sub));
  });
  const childStarts: Promise<void>[] = [];
  const batchesCut = metricMeter.createCounter('webhooks_batches_cut', 'batches', 'Batches cut, by reason (count, bytes, window, delete)');

  for (;;) {
    if (sub.gate.toRelease.length > 0) {
      // Held batches go out oldest first, a bounded number per workflow task.
      const release = sub.gate.toRelease.splice(0, RELEASE_PER_TASK);
      // A held batch that already ended (its hold ran out) is simply not there any more.
      await Promise.all(release.map((batchId) => getExternalWorkflowHandle(batchWorkflowId(batchId)).signal(releaseSignal).catch(() => undefined)));
      continue;
    }
    const { maxEvents, windowMs } = sub.config.batching;
    const now = Date.now();
    const pendingCount = sub.pending.length;
    const fitCount = sub.fitCount();
    const decision = sub.deleting
      ? { cut: pendingCount > 0, size: Math.min(pendingCount, maxEvents, fitCount), waitMs: null }
      : decideBatch({ pendingCount, fitCount, lastCutAt: sub.lastCutAt, now, windowMs, maxEvents });

    if (decision.cut) {
      // Every batch cut in this pass is started in the same workflow task: a hot subscription
      // cuts many batches at once, and starting them one round trip apart would cap its rate.
      const events = sub.takeBatch(decision.size, now);
      const reason = 'reason' in decision ? decision.reason : 'delete';
      batchesCut.add(1, { reason });
      childStarts.push(cutBatch(sub, events, now, sub.batchesCut));
      continue;
    }
    const dueToContinue = () => {
      const { historyLength, continueAsNewSuggested, historySize } = workflowInfo();
      return sub.shouldContinueAsNew(historyLength, continueAsNewSuggested, historySize);
    };
    if (childStarts.length > 0) {
      await Promise.all(childStarts.splice(0));
      // Under a steady stream there is always another batch to cut by now: the run's limits are
      // checked here too, or continue-as-new would starve while the history grows toward 50 MB.
      if (sub.deleting || !dueToContinue()) continue;
    }
    if (sub.deleting) {
      // Events signalled while the delete update was running still go out in a last batch.
      await condition(allHandlersFinished);
      if (sub.pending.length === 0) return;
      continue;
    }
    if (dueToContinue()) {
      const info = workflowInfo();
      // Never from a handler, and only once every handler is done, so no update is cut off.
      await condition(allHandlersFinished);
      // Memo and search attributes go along explicitly: listing and routing read them.
      await makeContinueAsNewFunc<typeof subscriptionWorkflow>({
        memo: memoOf(sub),
        typedSearchAttributes: info.typedSearchAttributes,
      })(sub.carryOver());
    }
    const seen = sub.wakeups;
    const woken = () => sub.wakeups !== seen;
    if (decision.waitMs === null) await condition(woken);
    else await condition(woken, decision.waitMs);
  }
}

/** Release signals sent per pass of the main loop. */
const RELEASE_PER_TASK = 100;

async function cutBatch(sub: SubscriptionState, events: WebhookEvent[], cutAt: number, sequence: number): Promise<void> {
  const batchId = uuid4();
  const createdAt = new Date(cutAt).toISOString();
  // Behind a failing endpoint the batch is held: started (its payload recorded) but not attempted.
  const held = sub.holdsNextBatch();
  const probe = !held && sub.noteProbe(batchId);
  if (held && sub.noteHeld(batchId)) upsertMemo(memoOf(sub));
  const input: DeliveryWorkflowInput = {
    batchId,
    partnerId: sub.partnerId,
    subscriptionId: sub.subscriptionId,
    url: sub.config.url,
    createdAt,
    eventCount: events.length,
    sequence,
    body: buildPayloadBody(batchId, createdAt, events),
    // Twice the retry period: longer than the probe ahead of it can take, so only a batch that
    // nothing will ever release (say, its subscription was terminated) ends this way.
    ...(held ? { held, holdLimitMs: Math.round(2 * retryHorizonMs(sub.backoffScale)) } : {}),
    ...(probe ? { probe } : {}),
  };
  // The workflow logger is replay-aware: this line is written once, not on every replay.
  log.info('batch cut', { partnerId: sub.partnerId, subscriptionId: sub.subscriptionId, batchId, sequence, events: events.length });
  await startChild(deliveryWorkflow, {
    workflowId: batchWorkflowId(batchId),
    args: [input],
    // The batch's delivery goes on for up to 30 days, across this workflow's continue-as-new and deletion.
    parentClosePolicy: ParentClosePolicy.ABANDON,
    memo: { batch: { createdAt, eventCount: events.length, sequence } } satisfies BatchMemo,
    staticSummary: `${events.length} event${events.length === 1 ? '' : 's'} for partner ${sub.partnerId} / subscription ${sub.subscriptionId}`,
    staticDetails: [
      `**Batch** ${batchId} (#${sequence} of this subscription), cut ${createdAt}`,
      `**Partner** ${sub.partnerId} · **Subscription** ${sub.subscriptionId}`,
      `**Events** ${events.length}: ${eventTypesForSearch(events.map((event) => event.type)).join(', ')}`,
      `**Endpoint** ${sub.config.url}`,
      ...(held ? [`**Held** behind batch ${sub.gate.probeBatchId}: the endpoint is failing since ${sub.gate.failingSince}`] : []),
      'The input holds the exact body; `GET /v1/batches/' + batchId + '` shows it with the attempts.',
    ].join('\n\n'),
    typedSearchAttributes: [
      { key: partnerIdKey, value: sub.partnerId },
      { key: subscriptionIdKey, value: sub.subscriptionId },
      { key: batchIdKey, value: batchId },
      { key: eventCountKey, value: events.length },
      { key: eventTypesKey, value: eventTypesForSearch(events.map((event) => event.type)) },
    ],
  });
}

export function memoOf(sub: SubscriptionState): SubscriptionMemo {
  const { pendingEvents: _pending, status: _status, ...subscription } = sub.view();
  return { subscription };
}
