/**
 * The Worker Deployment this product's workers belong to, read and steered through Temporal's API:
 * which version is current, and making one current. Used by the worker (to make the first version
 * of a deployment current) and by the deploy fault scenario; operators type the same operations,
 * and ramp and drain, with `temporal worker deployment …` (docs/operations.md, "Deploying").
 */
import proto from '@temporalio/proto';

type WorkflowService = proto.temporal.api.workflowservice.v1.WorkflowService;

export interface DeploymentVersion {
  deploymentName: string;
  buildId: string;
}

export interface DeploymentRouting {
  /** The version new and auto-upgrading workflows run on; undefined: unversioned workers. */
  current: string | undefined;
  ramping: string | undefined;
  rampingPercentage: number;
  /** What a change must present, so that two operators cannot overwrite each other's. */
  conflictToken: Uint8Array;
}

export class WorkerDeployment {
  constructor(
    private readonly service: WorkflowService,
    private readonly namespace: string,
    readonly name: string,
    private readonly identity = 'webhooks',
  ) {}

  /** Where traffic goes today; undefined while no worker of the deployment has ever polled. */
  async routing(): Promise<DeploymentRouting | undefined> {
    try {
      const response = await this.service.describeWorkerDeployment({ namespace: this.namespace, deploymentName: this.name });
      const routing = response.workerDeploymentInfo?.routingConfig;
      return {
        current: routing?.currentDeploymentVersion?.buildId || undefined,
        ramping: routing?.rampingDeploymentVersion?.buildId || undefined,
        rampingPercentage: routing?.rampingVersionPercentage ?? 0,
        conflictToken: response.conflictToken,
      };
    } catch (err) {
      if (grpcCode(err) === NOT_FOUND) return undefined;
      throw err;
    }
  }

  /** Makes `buildId` current: new workflows, and auto-upgrading ones at their next task, run on it. */
  async setCurrent(buildId: string, conflictToken?: Uint8Array): Promise<void> {
    await this.service.setWorkerDeploymentCurrentVersion({
      namespace: this.namespace,
      deploymentName: this.name,
      buildId,
      identity: this.identity,
      ...(conflictToken ? { conflictToken } : {}),
    });
  }
}

const NOT_FOUND = 5;
const FAILED_PRECONDITION = 9;

function grpcCode(err: unknown): number | undefined {
  return typeof err === 'object' && err !== null && 'code' in err && typeof err.code === 'number' ? err.code : undefined;
}

/**
 * What a worker does about the deployment's current version once it polls (WORKER_SET_CURRENT):
 * `if-none` makes itself current only while no version is (the first deploy, or a fresh dev
 * server); `always` makes itself current (the dev commands: the developer's one worker is the
 * fleet); `never` leaves it to the operator.
 */
export type SetCurrentPolicy = 'if-none' | 'always' | 'never';

/**
 * Applies `policy` for `buildId`: waits until the server knows the version (a worker's first poll
 * registers it), then sets it current if the policy says so. Answers what it did.
 */
export async function claimCurrent(
  deployment: WorkerDeployment,
  buildId: string,
  policy: SetCurrentPolicy,
  signal: AbortSignal,
): Promise<'made-current' | 'already-current' | 'left-alone'> {
  if (policy === 'never') return 'left-alone';
  for (;;) {
    signal.throwIfAborted();
    const routing = await deployment.routing();
    if (routing) {
      if (routing.current === buildId) return 'already-current';
      if (policy === 'if-none' && routing.current !== undefined) return 'left-alone';
      try {
        await deployment.setCurrent(buildId, routing.conflictToken);
        return 'made-current';
      } catch (err) {
        // Not polled yet on every task queue, or another worker changed the routing meanwhile: look again.
        const code = grpcCode(err);
        if (code !== FAILED_PRECONDITION && code !== NOT_FOUND && code !== 10 /* ABORTED */) throw err;
      }
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
