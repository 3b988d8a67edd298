import { defineQuery, proxyActivities, setHandler, setWorkflowOptions, sleep, upsertMemo } from '@temporalio/workflow';
import { versioningBehavior } from './versioning';
import type { RecoveryActivities } from '../activities/recovery';

/**
 * Bulk recovery (#17): redelivers every failed batch of one subscription cut in a time range,
 * oldest first, at a bounded rate, then waits for them to end. ID `recovery:{partnerId}:{subscriptionId}`,
 * so one runs per subscription at a time. Its progress is its memo (the Web UI shows it) and the
 * `progress` query (the API and Depo).
 */
export interface RecoveryInput {
  partnerId: string;
  subscriptionId: string;
  /** Batches cut in [since, until] (ISO-8601). */
  since: string;
  until: string;
  /** Redeliveries started per second at most. */
  perSecond: number;
  /** How often it looks at the redelivered batches' state, in milliseconds. */
  checkEveryMs: number;
}

export interface RecoveryProgress {
  status: 'finding' | 'redelivering' | 'waiting' | 'done';
  since: string;
  until: string;
  /** Failed batches found in the range. */
  found: number;
  /** Started again (a fresh 26 attempts each). */
  redelivered: number;
  /** Found failed, but no longer failed when their turn came (redelivered meanwhile by someone else). */
  skipped: number;
  /** Of the redelivered ones: delivered, and failed again. */
  delivered: number;
  failedAgain: number;
  startedAt: string;
  finishedAt: string | null;
}

export interface RecoveryMemo {
  recovery: RecoveryProgress;
}

export const recoveryProgressQuery = defineQuery<RecoveryProgress>('progress');

/** The most failed batches one recovery takes on: a wider range takes several recoveries. */
export const MAX_RECOVERED_BATCHES = 5_000;

// Minutes to hours: it finishes on the version that started it, so its code may change without a
// patch; the old version drains once no recovery runs on it (docs/decisions/0011-worker-versioning.md).
setWorkflowOptions(versioningBehavior('PINNED'), recoveryWorkflow);

export async function recoveryWorkflow(input: RecoveryInput): Promise<RecoveryProgress> {
  // Short timeouts: a worker that dies mid-activity delays the recovery by seconds, not minutes.
  const retry = { initialInterval: '1 second', maximumInterval: '1 minute' };
  const { findFailedBatches } = proxyActivities<RecoveryActivities>({ startToCloseTimeout: '10 minutes', heartbeatTimeout: '30 seconds', retry });
  const { redeliverFailedBatch, countEnded } = proxyActivities<RecoveryActivities>({ startToCloseTimeout: '30 seconds', retry });
  const progress: RecoveryProgress = {
    status: 'finding',
    since: input.since,
    until: input.until,
    found: 0,
    redelivered: 0,
    skipped: 0,
    delivered: 0,
    failedAgain: 0,
    startedAt: new Date().toISOString(),
    finishedAt: null,
  };
  const publish = () => upsertMemo({ recovery: progress } satisfies RecoveryMemo);
  setHandler(recoveryProgressQuery, () => progress);

  const batchIds = await findFailedBatches({ partnerId: input.partnerId, subscriptionId: input.subscriptionId, since: input.since, until: input.until, max: MAX_RECOVERED_BATCHES });
  progress.found = batchIds.length;
  progress.status = 'redelivering';
  publish();
  const gapMs = Math.ceil(1000 / input.perSecond);
  for (const batchId of batchIds) {
    if (await redeliverFailedBatch(batchId)) {
      progress.redelivered++;
    } else {
      progress.skipped++;
    }
    // The memo is written every 10 batches and at the end: enough for the Web UI, light on history.
    if ((progress.redelivered + progress.skipped) % 10 === 0) publish();
    await sleep(gapMs);
  }
  progress.status = 'waiting';
  publish();
  // Redelivered batches end within their 26 attempts (about 30 days): looked at less and less
  // often, at most hourly, so the history stays small however long it takes.
  let checkEveryMs = input.checkEveryMs;
  for (;;) {
    const ended = await countEnded({ partnerId: input.partnerId, subscriptionId: input.subscriptionId, since: input.since, until: input.until, startedAt: progress.startedAt });
    progress.delivered = ended.delivered;
    progress.failedAgain = ended.failed;
    if (ended.running === 0 && ended.delivered + ended.failed >= progress.redelivered) break;
    publish();
    await sleep(checkEveryMs);
    checkEveryMs = Math.min(2 * checkEveryMs, 3_600_000);
  }
  progress.status = 'done';
  progress.finishedAt = new Date().toISOString();
  publish();
  return progress;
}
