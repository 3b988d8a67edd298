import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from '../activities';
import type { Config } from '../platform/config';
import type { AttemptRecorder } from '../activities/delivery';

export const workflowsPath = fileURLToPath(new URL('../workflows/index.ts', import.meta.url));

/** Builds the worker that runs both workflows and the delivery activity on the configured task queue. */
export async function createWorker(
  config: Config,
  connection: NativeConnection,
  overrides: Partial<WorkerOptions> = {},
  metrics?: AttemptRecorder,
): Promise<Worker> {
  return Worker.create({
    connection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    ...(config.worker.workflowBundlePath ? { workflowBundle: { codePath: config.worker.workflowBundlePath } } : { workflowsPath }),
    activities: createActivities(config, { metrics }),
    // Codecs run here, outside the workflow sandbox: workflow code never sees ciphertext.
    dataConverter: config.temporal.dataConverter,
    // Each workflow declares its own behaviour (setWorkflowOptions); this default covers none today.
    ...(config.worker.deployment
      ? {
          workerDeploymentOptions: {
            version: { deploymentName: config.worker.deployment.name, buildId: config.worker.deployment.buildId },
            useWorkerVersioning: true,
            defaultVersioningBehavior: 'AUTO_UPGRADE',
          },
        }
      : {}),
    stickyQueueScheduleToStartTimeout: config.worker.stickyQueueTimeoutMs,
    ...(config.worker.maxCachedWorkflows === undefined ? {} : { maxCachedWorkflows: config.worker.maxCachedWorkflows }),
    ...overrides,
  });
}
