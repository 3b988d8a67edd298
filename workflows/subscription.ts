import { allHandlersFinished, ApplicationFailure, condition, getExternalWorkflowHandle, log, makeContinueAsNewFunc, metricMeter, ParentClosePolicy, patched, setHandler, setWorkflowOptions, startChild, upsertMemo, upsertSearchAttributes, uuid4, workflowInfo } from '@temporalio/workflow';
import { versioningBehavior } from './versioning';
import { buildPayloadBody } from '../domain/payload';
import type { WebhookEvent } from '../domain/schema';
import { deliveryWorkflow, type BatchMemo, type DeliveryWorkflowInput } from './delivery';
import { batchWorkflowId } from './ids';
import { configureUpdate, deleteUpdate, endpointSignal, eventsSignal, releaseSignal, rotateSecretUpdate, stateQuery, type SubscriptionMemo } from './messages';
import { batchIdKey, eventCountKey, eventTypesKey, partnerIdKey, routesChangedAtKey, subscriptionIdKey, eventTypesForSearch } from './search-attributes';
import { SubscriptionState, type SubscriptionWorkflowInput } from './subscription-state';

export type { SubscriptionWorkflowInput } from './subscription-state';

// Never ends and continues as new: it moves to each new current version at its next task, so a change
// to it needs a patch (docs/decisions/0011-worker-versioning.md).
setWorkflowOptions(versioningBehavior('AUTO_UPGRADE'), subscriptionWorkflow);

/**
 * One long-lived workflow per subscription: collects signalled events and cuts batches by the
 * rule in domain/batching.ts; each batch becomes a child delivery workflow that outlives this run.
 */
export async function subscriptionWorkflow(input: SubscriptionWorkflowInput): Promise<void> {
  const sub = new SubscriptionState(input);

  /** Workflow time of the last events signal: equal to `Date.now()` in the workflow task that brought it. */
  let lastSignalAt: number | null = null;
  setHandler(eventsSignal, ({ events }) => {
    sub.accept(events);
    lastSignalAt = Date.now();
  });
  setHandler(
    configureUpdate,
    (patch) => {
      sub.configure(patch, new Date().toISOString());
      upsertMemo(memoOf(sub));
      noteRoutesChanged();
      return sub.view();
    },
    { validator: (_patch) => rejectIfDeleted(sub) },
  );
  setHandler(deleteUpdate, async () => {
    sub.markDeleting();
    await condition(() => sub.pendingCount === 0);
  });
  setHandler(stateQuery, () => sub.view());
  setHandler(
    rotateSecretUpdate,
    () => {
      const signing = sub.rotateSecret(new Date());
      upsertMemo(memoOf(sub));
      return signing;
    },
    { validator: () => rejectIfDeleted(sub) },
  );
  setHandler(endpointSignal, (report) => {
    if (!sub.reportEndpoint(report)) return;
    log.info('endpoint gate changed', { partnerId: sub.partnerId, subscriptionId: sub.subscriptionId, ...report, enabled: sub.gate.enabled });
    upsertMemo(memoOf(sub));
    noteRoutesChanged();
  });
  const childStarts: Promise<void>[] = [];
  const batchesCut = metricMeter.createCounter('webhooks_batches_cut', 'batches', 'Batches cut, by reason (count, bytes, window, delete)');

  const dueToContinue = () => {
    const { historyLength, continueAsNewSuggested, historySize } = workflowInfo();
    return sub.shouldContinueAsNew(historyLength, continueAsNewSuggested, historySize, () => patched(SHORTER_RUNS));
  };
  let childStartsJustSettled = false;
  /** Batches started by this run that have not ended: a quiet hand-over lets them end first. */
  const running = { children: 0 };
  /** When this run's quiet hand-over became due (domain/subscription-step.ts, rule 0). */
  let handOverSince: number | null = null;

  // Each pass asks the state for the next step (domain/subscription-step.ts has the order) and does it.
  for (;;) {
    const now = Date.now();
    const step = sub.nextStep({
      now,
      childStartsInFlight: childStarts.length > 0,
      childStartsJustSettled,
      dueToContinue: dueToContinue(),
      limitsCarry: () => patched(CUT_BEFORE_CARRYING),
      limitsTask: () => patched(BOUNDED_CHILD_STARTS),
      quietHandOver: () => {
        if (!patched(QUIET_HAND_OVER)) return false;
        handOverSince ??= now;
        return true;
      },
      childrenRunning: running.children,
      handOverWaitedMs: handOverSince === null ? null : now - handOverSince,
      justSignalled: lastSignalAt === now,
    });
    childStartsJustSettled = false;
    switch (step.kind) {
      case 'release': {
        // Held batches go out oldest first, a bounded number per workflow task. A held batch that
        // already ended (its hold ran out) is simply not there any more.
        const release = sub.gate.takeReleases(RELEASE_PER_TASK);
        await Promise.all(release.map((batchId) => getExternalWorkflowHandle(batchWorkflowId(batchId)).signal(releaseSignal).catch(() => undefined)));
        break;
      }
      case 'cut': {
        // Every batch cut in this pass is started in the same workflow task: a hot subscription
        // cuts many batches at once, and starting them one round trip apart would cap its rate.
        const events = sub.takeBatch(step.size, now);
        batchesCut.add(1, { reason: step.reason });
        childStarts.push(cutBatch(sub, events, now, sub.batchesCut, running));
        break;
      }
      case 'await-child-starts':
        await Promise.all(childStarts.splice(0));
        sub.childStartsSettled();
        childStartsJustSettled = true;
        break;
      case 'finish-delete':
        // Events signalled while the delete update was running still go out in a last batch.
        await condition(allHandlersFinished);
        if (sub.pendingCount === 0) return;
        break;
      case 'continue-as-new': {
        const info = workflowInfo();
        // Never from a handler, and only once every handler is done, so no update is cut off.
        await condition(allHandlersFinished);
        // Memo and search attributes go along explicitly: listing and routing read them.
        await makeContinueAsNewFunc<typeof subscriptionWorkflow>({
          memo: memoOf(sub),
          typedSearchAttributes: info.typedSearchAttributes,
        })(sub.carryOver());
        break;
      }
      case 'hand-over-wait': {
        const seen = sub.signalsReceived;
        // The signal wait resumes in the workflow task that brought the signal, which then hands over.
        // A delete ends the wait: its last batches go out first (rule 0 is not for a deleted subscription).
        if (step.until === 'children-ended') await condition(() => running.children === 0 || sub.isDeleting, step.waitMs);
        else await condition(() => sub.signalsReceived !== seen || sub.isDeleting, step.waitMs);
        break;
      }
      case 'wait': {
        const seen = sub.wakeups;
        const woken = () => sub.wakeups !== seen;
        if (step.waitMs === null) await condition(woken);
        else await condition(woken, step.waitMs);
        break;
      }
    }
  }
}

/**
 * Marks the subscription's routes changed now, for the API's routing table, which re-reads only
 * the subscriptions marked since its last reading (api/ingest/event-router.ts). A subscription created
 * before the mark existed has none until its first change; the table's full readings cover it.
 */
function noteRoutesChanged(): void {
  if (patched(ROUTES_CHANGED_AT)) upsertSearchAttributes([{ key: routesChangedAtKey, value: new Date() }]);
}

function rejectIfDeleted(sub: SubscriptionState): void {
  if (sub.isDeleting) throw ApplicationFailure.nonRetryable('the subscription is deleted', 'SubscriptionDeleted');
}

/** The patch that cuts a backlog into batches before a continue-as-new instead of carrying it (domain/subscription-step.ts). */
const CUT_BEFORE_CARRYING = 'cut-before-carrying-over';
/** The patch that bounds the batch bytes one workflow task starts (domain/subscription-step.ts). */
const BOUNDED_CHILD_STARTS = 'bounded-child-starts-per-task';
/** The patch that hands a run over at RunLimits.shorterRunEvents history events (workflows/subscription-state.ts). */
const SHORTER_RUNS = 'shorter-runs-2000-events';
/** The patch that hands a run over quietly (domain/subscription-step.ts, rule 0). */
const QUIET_HAND_OVER = 'quiet-hand-over';

/** The patch that marks a subscription's routes changed in a search attribute (noteRoutesChanged). */
const ROUTES_CHANGED_AT = 'routes-changed-at';

/** Release signals sent per pass of the main loop. */
const RELEASE_PER_TASK = 100;

async function cutBatch(sub: SubscriptionState, events: WebhookEvent[], cutAt: number, sequence: number, running: { children: number }): Promise<void> {
  const batchId = uuid4();
  const createdAt = new Date(cutAt).toISOString();
  // Behind a failing endpoint the batch is held: started (its payload recorded) but not attempted.
  const held = sub.gate.holdsNextBatch(sub.isDeleting);
  const probe = !held && sub.gate.noteProbe(batchId);
  if (held && sub.gate.noteHeld(batchId)) upsertMemo(memoOf(sub));
  const input: DeliveryWorkflowInput = {
    batchId,
    partnerId: sub.partnerId,
    subscriptionId: sub.subscriptionId,
    url: sub.url,
    createdAt,
    eventCount: events.length,
    sequence,
    body: buildPayloadBody(batchId, createdAt, events),
    ...(held ? { held, holdLimitMs: sub.holdLimitMs() } : {}),
    ...(probe ? { probe } : {}),
    signing: sub.signingState,
    localFirstAttempt: true,
  };
  // The workflow logger is replay-aware: this line is written once, not on every replay.
  log.info('batch cut', { partnerId: sub.partnerId, subscriptionId: sub.subscriptionId, batchId, sequence, events: events.length });
  const child = await startChild(deliveryWorkflow, {
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
      `**Endpoint** ${sub.url}`,
      ...(held ? [`**Held** behind batch ${sub.gate.health().probeBatchId}: the endpoint is failing since ${sub.gate.health().failingSince}`] : []),
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
  // Its end arrives as an event of this run whatever we do; counting it adds no command.
  running.children++;
  const ended = () => void running.children--;
  child.result().then(ended, ended);
}

export function memoOf(sub: SubscriptionState): SubscriptionMemo {
  const { pendingEvents: _pending, status: _status, ...subscription } = sub.view();
  return { subscription };
}
