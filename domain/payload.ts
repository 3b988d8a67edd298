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

/** Room for the payload's own fields around its events: `batch_id`, `timestamp`, `count`. */
export const PAYLOAD_ENVELOPE_BYTES = 160;

/** Bytes of a string as UTF-8, without Node's Buffer (this module also runs inside workflows). */
export function utf8Length(text: string): number {
  let bytes = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) bytes += 1;
    else if (code < 0x800) bytes += 2;
    else if (code >= 0xd800 && code < 0xdc00 && i + 1 < text.length) {
      bytes += 4; // a surrogate pair: one 4-byte character
      i++;
    } else bytes += 3;
  }
  return bytes;
}

/** An event's size inside a payload, as JSON in the payload's field order. */
export function eventBytes({ id, createdAt, type, data }: WebhookEvent): number {
  return utf8Length(JSON.stringify({ id, createdAt, type, data }));
}

/** How many of `sizes`, from the first, fit in one payload of at most `maxBytes`. At least one. */
export function eventsThatFit(sizes: readonly number[], maxBytes: number): number {
  let total = PAYLOAD_ENVELOPE_BYTES;
  for (let i = 0; i < sizes.length; i++) {
    total += sizes[i]! + 1; // the comma between events
    if (total > maxBytes) return Math.max(1, i);
  }
  return sizes.length;
}
