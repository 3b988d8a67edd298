import type { WebhookEvent } from './schema';

export interface BatchPayload {
  batch_id: string;
  timestamp: string;
  count: number;
  events: WebhookEvent[];
}

/**
 * Builds the exact body of a batch, once, when the batch is cut. The string is what every attempt
 * sends, byte for byte: it travels in the delivery workflow's input and is never rebuilt.
 * Field order is the contract's.
 */
export function buildPayloadBody(batchId: string, timestamp: string, events: readonly WebhookEvent[]): string {
  const payload: BatchPayload = {
    batch_id: batchId,
    timestamp,
    count: events.length,
    events: events.map(({ id, createdAt, type, data }) => ({ id, createdAt, type, data })),
  };
  return JSON.stringify(payload);
}
