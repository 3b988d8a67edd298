import { WorkflowExecutionAlreadyStartedError, WorkflowIdReusePolicy, type Client } from '@temporalio/client';
import type { Config } from '../platform/config';
import { recoveryWorkflowId } from '../workflows/ids';
import type { RecoveryInput, RecoveryMemo, RecoveryProgress, recoveryWorkflow } from '../workflows/recovery';
import { ConflictError, NotFoundError } from '../domain/errors';
import { isGoneError } from './temporal-errors';

/** Redeliveries a recovery starts per second at most: a returning endpoint is not flooded. */
export const RECOVERY_PER_SECOND = 5;

/** Bulk recoveries live in Temporal: one workflow per subscription at a time (workflows/recovery.ts). */
export class RecoveryStore {
  constructor(
    private readonly client: Client,
    private readonly config: Config,
  ) {}

  async start(partnerId: string, subscriptionId: string, since: string, until: string): Promise<RecoveryProgress> {
    const input: RecoveryInput = {
      partnerId,
      subscriptionId,
      since,
      until,
      perSecond: RECOVERY_PER_SECOND,
      // A minute between looks at the redelivered batches (scaled like the retry schedule, 1 s at least).
      checkEveryMs: Math.max(1_000, Math.round(60_000 * this.config.delivery.backoffScale)),
    };
    const progress: RecoveryProgress = { status: 'finding', since, until, found: 0, redelivered: 0, skipped: 0, delivered: 0, failedAgain: 0, startedAt: new Date().toISOString(), finishedAt: null };
    try {
      await this.client.workflow.start<typeof recoveryWorkflow>('recoveryWorkflow', {
        workflowId: recoveryWorkflowId(partnerId, subscriptionId),
        taskQueue: this.config.temporal.taskQueue,
        args: [input],
        // A finished recovery may be followed by another; a running one may not.
        workflowIdReusePolicy: WorkflowIdReusePolicy.ALLOW_DUPLICATE,
        memo: { recovery: progress } satisfies RecoveryMemo,
        staticSummary: `Redelivering the failed batches of partner ${partnerId} / subscription ${subscriptionId} cut from ${since} to ${until}`,
      });
    } catch (err) {
      if (err instanceof WorkflowExecutionAlreadyStartedError) throw new ConflictError(`a recovery of subscription ${subscriptionId} is running; see GET …/recover`);
      throw err;
    }
    return progress;
  }

  /** From the workflow's memo (no worker needed): what the Web UI shows too. */
  async progress(partnerId: string, subscriptionId: string): Promise<RecoveryProgress> {
    const description = await this.client.workflow
      .getHandle(recoveryWorkflowId(partnerId, subscriptionId))
      .describe()
      .catch((err: unknown) => {
        throw isGoneError(err) ? new NotFoundError(`subscription ${subscriptionId} of partner ${partnerId} has had no recovery`) : err;
      });
    const memo = description.memo as Partial<RecoveryMemo> | undefined;
    if (!memo?.recovery) throw new NotFoundError(`subscription ${subscriptionId} of partner ${partnerId} has had no recovery`);
    return memo.recovery;
  }
}
