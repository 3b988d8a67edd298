import type { VersioningBehavior, WorkflowDefinitionOptions } from '@temporalio/common';
import { workflowInfo } from '@temporalio/workflow';

/**
 * A workflow type's versioning behaviour (docs/decisions/0011-worker-versioning.md), declared only
 * where a versioned worker runs it: Temporal refuses a behaviour from a worker without a Worker
 * Deployment Version (WORKER_VERSIONING=off, the tests' in-process workers).
 */
export function versioningBehavior(behavior: VersioningBehavior): () => WorkflowDefinitionOptions {
  // An unversioned worker reports a version too (its build id), without a deployment name.
  return () => (workflowInfo().currentDeploymentVersion?.deploymentName ? { versioningBehavior: behavior } : {});
}
