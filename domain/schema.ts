import { z } from 'zod';
import { MAX_EVENTS_PER_REQUEST, MAX_EVENT_TYPES, MAX_URL_LENGTH, PARTNER_ID_PATTERN, WINDOW_MS_MAX, WINDOW_MS_MIN } from './limits';

/**
 * One schema module, shared by the API (request validation) and the workflows (their inputs are
 * the `z.infer` types below; workflows import types only, so zod stays out of the workflow
 * bundle). Bounds come from the contract, in ./limits.
 */
export * from './limits';

export const partnerIdSchema = z.string().regex(PARTNER_ID_PATTERN, 'partnerId must match [A-Za-z0-9_-]{1,64}');
export const subscriptionIdSchema = z.uuid();
export const batchIdSchema = z.uuid();

export const eventTypeSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[\x21-\x7e]+$/, 'event types are printable ASCII without spaces');

export function batchingSchema(maxEventsLimit: number) {
  return z.strictObject({
    windowMs: z.number().int().min(WINDOW_MS_MIN).max(WINDOW_MS_MAX).optional(),
    maxEvents: z.number().int().min(1).max(maxEventsLimit).optional(),
  });
}

const urlSchema = z.url().max(MAX_URL_LENGTH);

export function createSubscriptionSchema(maxEventsLimit: number) {
  return z.strictObject({
    url: urlSchema,
    eventTypes: z.array(eventTypeSchema).min(1).max(MAX_EVENT_TYPES),
    batching: batchingSchema(maxEventsLimit).optional(),
  });
}

export function patchSubscriptionSchema(maxEventsLimit: number) {
  return z
    .strictObject({
      url: urlSchema.optional(),
      eventTypes: z.array(eventTypeSchema).min(1).max(MAX_EVENT_TYPES).optional(),
      batching: batchingSchema(maxEventsLimit).optional(),
      enabled: z.boolean().optional(),
    })
    .refine((patch) => Object.keys(patch).length > 0, 'give at least one of url, eventTypes, batching, enabled');
}

/**
 * An event's `data`: any JSON object, passed on as it came. Not rebuilt key by key (as
 * `z.record` would, silently dropping a `__proto__` key): JSON.parse makes such a key an own
 * property, which pollutes no prototype and is delivered as sent.
 */
const eventDataSchema = z.custom<Record<string, unknown>>(
  (value) => typeof value === 'object' && value !== null && !Array.isArray(value),
  { message: 'data must be a JSON object' },
);

export const eventInputSchema = z.strictObject({
  type: eventTypeSchema,
  data: eventDataSchema,
  id: z.uuid().optional(),
  createdAt: z.iso.datetime({ offset: true }).optional(),
});

export const eventBatchInputSchema = z.array(eventInputSchema).min(1).max(MAX_EVENTS_PER_REQUEST);

/** One event or an array of them; picked by shape so that errors name the real problem. */
export function eventsRequestSchema(raw: unknown) {
  return Array.isArray(raw) ? eventBatchInputSchema : eventInputSchema;
}

/** A JSON object (a JSON Schema, an example `data`), as it came. */
const jsonObjectSchema = z.custom<Record<string, unknown>>((value) => typeof value === 'object' && value !== null && !Array.isArray(value), {
  message: 'must be a JSON object',
});

/** An event type of the catalog. `schema` is checked as a JSON Schema, and `example` against it, by the API. */
export const createEventTypeSchema = z.strictObject({
  name: eventTypeSchema,
  description: z.string().max(2_000).default(''),
  schema: jsonObjectSchema.nullable().optional(),
  example: jsonObjectSchema.nullable().optional(),
});

export const patchEventTypeSchema = z
  .strictObject({
    description: z.string().max(2_000).optional(),
    schema: jsonObjectSchema.nullable().optional(),
    example: jsonObjectSchema.nullable().optional(),
    archived: z.boolean().optional(),
  })
  .refine((patch) => Object.keys(patch).length > 0, 'give at least one of description, schema, example, archived');

export type CreateEventTypeInput = z.infer<typeof createEventTypeSchema>;
export type EventTypePatchInput = z.infer<typeof patchEventTypeSchema>;

export const batchStatusSchema = z.enum(['pending', 'delivered', 'failed']);

/** A bulk recovery: the failed batches cut in [since, until] (until defaults to now). */
export const recoverySchema = z
  .strictObject({
    since: z.iso.datetime({ offset: true }),
    until: z.iso.datetime({ offset: true }).optional(),
  })
  .refine((range) => !range.until || Date.parse(range.since) < Date.parse(range.until), { message: 'since must be before until', path: ['since'] });

/** `?status=&limit=&cursor=` of a subscription's batches. */
export const batchPageQuerySchema = z.object({
  status: batchStatusSchema.optional(),
  limit: z.coerce.number().int().min(1).max(500).optional(),
  /** The previous page's `nextCursor`, as given. */
  cursor: z.string().min(1).max(4_096).regex(/^[A-Za-z0-9_-]+$/, 'a cursor is the nextCursor of a previous page').optional(),
});

export type EventInput = z.infer<typeof eventInputSchema>;
export type BatchStatus = z.infer<typeof batchStatusSchema>;

/** An accepted event, exactly as it appears in a delivered payload. */
export interface WebhookEvent {
  id: string;
  createdAt: string;
  type: string;
  data: Record<string, unknown>;
}

export interface Batching {
  windowMs: number;
  maxEvents: number;
}

/** What a subscription is configured with; `PATCH` changes any part of it. */
export interface SubscriptionConfig {
  url: string;
  eventTypes: string[];
  batching: Batching;
}

export interface SubscriptionConfigPatch {
  url?: string;
  eventTypes?: string[];
  batching?: Partial<Batching>;
  /** true re-enables a disabled subscription and releases its held batches; false disables it. */
  enabled?: boolean;
}
