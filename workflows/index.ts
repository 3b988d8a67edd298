/** The workflows this project's worker runs. Deterministic code only: all I/O lives in activities/. */
export { subscriptionWorkflow } from './subscription';
export { deliveryWorkflow } from './delivery';
export { eventTypeWorkflow } from './event-type';
export { recoveryWorkflow } from './recovery';
