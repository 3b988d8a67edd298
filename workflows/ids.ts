/**
 * Workflow IDs are business keys an operator can type into the Web UI.
 * `:` cannot occur in a partnerId, so the parts never run together.
 */
export function subscriptionWorkflowId(partnerId: string, subscriptionId: string): string {
  return `subscription:${partnerId}:${subscriptionId}`;
}

export function batchWorkflowId(batchId: string): string {
  return `batch:${batchId}`;
}

/** An event type of the catalog: its name is printable ASCII without spaces. */
export function eventTypeWorkflowId(name: string): string {
  return `event-type:${name}`;
}

/** A subscription's bulk recovery: one at a time per subscription. */
export function recoveryWorkflowId(partnerId: string, subscriptionId: string): string {
  return `recovery:${partnerId}:${subscriptionId}`;
}
