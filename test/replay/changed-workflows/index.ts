/**
 * A deliberately incompatible change to the subscription workflow, for the replay tests: it sleeps
 * before doing what it did before, so its first command no longer matches recorded histories.
 * The other workflows are the current ones, so that only the subscription's runs diverge.
 * (The safe way to make such a change is `patched()`: docs/operations.md.)
 */
import { sleep } from '@temporalio/workflow';
import { subscriptionWorkflow as recorded, type SubscriptionWorkflowInput } from '../../../workflows/subscription';

export { deliveryWorkflow } from '../../../workflows/delivery';
export { eventTypeWorkflow } from '../../../workflows/event-type';
export { recoveryWorkflow } from '../../../workflows/recovery';

export async function subscriptionWorkflow(input: SubscriptionWorkflowInput): Promise<void> {
  await sleep(1);
  return recorded(input);
}
