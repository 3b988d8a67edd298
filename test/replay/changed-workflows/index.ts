/**
 * A deliberately incompatible change to the subscription workflow, for the replay test: it sleeps
 * before doing what it did before, so its first command no longer matches recorded histories.
 * (The safe way to make such a change is `patched()`: docs/operations.md.)
 */
import { sleep } from '@temporalio/workflow';
import { subscriptionWorkflow as recorded, type SubscriptionWorkflowInput } from '../../../workflows/subscription';

export { deliveryWorkflow } from '../../../workflows/delivery';

export async function subscriptionWorkflow(input: SubscriptionWorkflowInput): Promise<void> {
  await sleep(1);
  return recorded(input);
}
