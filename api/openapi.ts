import { z } from 'zod';
import {
  batchIdSchema,
  batchPageQuerySchema,
  batchStatusSchema,
  createEventTypeSchema,
  createSubscriptionSchema,
  eventBatchInputSchema,
  eventInputSchema,
  eventTypeSchema,
  partnerIdSchema,
  patchEventTypeSchema,
  patchSubscriptionSchema,
  recoverySchema,
  subscriptionIdSchema,
} from '../domain/schema';
import type { EventTypeDefinition } from '../workflows/event-type';
import type { SubscriptionView } from '../workflows/messages';
import type { RecoveryProgress } from '../workflows/recovery';
import type { BatchDetail, BatchPage, BatchSummary } from '../stores/batch-store';
import type { AcceptedEvent } from './services/event-ingest';
import type { CreatedSubscription, RotatedSecret } from './services/subscriptions';
import type { SubscriptionSummary } from '../stores/subscription-store';

/**
 * The API's OpenAPI 3.1 document, served at /openapi.json. Request bodies, path and query
 * parameters are the zod schemas the routes validate with, converted here; responses are described
 * by the zod schemas below, each checked at compile time against the type the route returns.
 * test/integration/openapi.test.ts checks that every route is documented and every documented
 * operation is a route, calls each one and validates its answers against this document, and lints
 * it with Redocly's CLI.
 */

// --- Responses ---------------------------------------------------------------------------------

const isoTime = z.iso.datetime();
const endpointHealthSchema = z.object({
  failingSince: isoTime.nullable(),
  probeBatchId: z.string().nullable(),
  heldBatches: z.int().min(0),
  disabledReason: z.string().nullable(),
});
const batchingSchema = z.object({ windowMs: z.int(), maxEvents: z.int() });
const signingStateSchema = z
  .object({ generation: z.int().min(1), previousUntil: isoTime.nullable() })
  .meta({ description: 'Which signing secret generation signs deliveries, and until when the previous one signs beside it. Never a secret.' });

export const subscriptionSummarySchema = z.object({
  id: z.uuid(),
  partnerId: z.string(),
  url: z.string(),
  eventTypes: z.array(z.string()),
  batching: batchingSchema,
  createdAt: isoTime,
  updatedAt: isoTime,
  /** Missing from subscriptions created before the endpoint gate, until they change. */
  enabled: z.boolean().optional(),
  endpointHealth: endpointHealthSchema.optional(),
  /** Missing from subscriptions created before signatures, until they change. */
  signing: signingStateSchema.optional(),
});
export const subscriptionSchema = subscriptionSummarySchema.extend({
  status: z.enum(['active', 'deleted']),
  pendingEvents: z.int().min(0),
  enabled: z.boolean(),
  endpointHealth: endpointHealthSchema,
  signing: signingStateSchema,
});
const signingSecretSchema = z.string().regex(/^whsec_[A-Za-z0-9+/]+=*$/).meta({ description: 'A Standard Webhooks secret: whsec_ + base64' });
export const createdSubscriptionSchema = subscriptionSchema.extend({ signingSecret: signingSecretSchema.nullable() });
export const rotatedSecretSchema = z.object({ signingSecret: signingSecretSchema, signing: signingStateSchema });
export const batchSummarySchema = z.object({
  batchId: z.uuid(),
  partnerId: z.string(),
  subscriptionId: z.uuid(),
  status: batchStatusSchema,
  eventCount: z.int().min(0),
  sequence: z.int().min(0),
  createdAt: isoTime,
  deliveredAt: isoTime.optional(),
});
export const recoveryProgressSchema = z.object({
  status: z.enum(['finding', 'redelivering', 'waiting', 'done']),
  since: isoTime,
  until: isoTime,
  found: z.int().min(0),
  redelivered: z.int().min(0),
  skipped: z.int().min(0),
  delivered: z.int().min(0),
  failedAgain: z.int().min(0),
  startedAt: isoTime,
  finishedAt: isoTime.nullable(),
});
export const batchPageSchema = z.object({ batches: z.array(batchSummarySchema), nextCursor: z.string().nullable() });
export const batchSchema = batchSummarySchema.extend({
  attempts: z.int().min(0),
  lastError: z.string().optional(),
  nextAttemptAt: isoTime.optional(),
  payload: z.unknown().meta({ description: 'The exact JSON body delivered to the endpoint' }),
});
const jsonObject = z.record(z.string(), z.unknown());
export const eventTypeResponseSchema = z.object({
  name: z.string(),
  description: z.string(),
  schema: jsonObject.nullable(),
  example: jsonObject.nullable(),
  archived: z.boolean(),
  version: z.int().min(1),
  createdAt: isoTime,
  updatedAt: isoTime,
});
export const acceptedEventsSchema = z.object({ events: z.array(z.object({ id: z.string(), subscriptions: z.int().min(0) })) });
export const problemSchema = z.object({
  type: z.string(),
  title: z.string(),
  status: z.int(),
  detail: z.string(),
  errors: z.array(z.object({ path: z.string(), message: z.string() })).optional(),
});
const statusSchema = z.object({ status: z.string(), detail: z.string().optional() });

// Each response schema describes exactly the type its route returns: a change to one without the
// other fails the type check.
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
const described: [
  Same<z.infer<typeof subscriptionSchema>, SubscriptionView>,
  Same<z.infer<typeof createdSubscriptionSchema>, CreatedSubscription>,
  Same<z.infer<typeof rotatedSecretSchema>, RotatedSecret>,
  Same<z.infer<typeof subscriptionSummarySchema>, SubscriptionSummary>,
  Same<z.infer<typeof batchSummarySchema>, BatchSummary>,
  Same<z.infer<typeof batchSchema>, BatchDetail>,
  Same<z.infer<typeof batchPageSchema>, BatchPage>,
  Same<z.infer<typeof recoveryProgressSchema>, RecoveryProgress>,
  Same<z.infer<typeof eventTypeResponseSchema>, EventTypeDefinition>,
  Same<z.infer<typeof acceptedEventsSchema>['events'][number], AcceptedEvent>,
] = [true, true, true, true, true, true, true, true, true, true];
void described;

// --- Operations --------------------------------------------------------------------------------

type Auth = 'admin' | 'any-token' | 'none';
type Schema = z.ZodType | { $ref: string };

interface Operation {
  method: 'get' | 'post' | 'patch' | 'delete';
  /** OpenAPI style: `/v1/partners/{partnerId}/events`. */
  path: string;
  operationId: string;
  tag: string;
  summary: string;
  description: string;
  auth: Auth;
  params?: Record<string, z.ZodType>;
  query?: Record<string, z.ZodType>;
  body?: z.ZodType;
  /** Success statuses, and any error status beyond those every operation of its kind may answer. */
  responses: Record<number, { description: string; schema?: Schema }>;
  /** Reads or writes Temporal: 503 when it is unreachable. */
  temporal: boolean;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const partner = { partnerId: partnerIdSchema };
const subscription = { partnerId: partnerIdSchema, id: subscriptionIdSchema };

function operations(maxEventsLimit: number): Operation[] {
  return [
    {
      method: 'post', path: '/v1/partners/{partnerId}/events', operationId: 'publishEvents', tag: 'Events', auth: 'any-token', temporal: true,
      summary: 'Publish events',
      description: 'One event or an array of up to 1,000. Answers once Temporal has recorded every event for every subscription it was routed to: a 202 loses nothing. Events whose type has a schema in the catalog are checked against it first.',
      params: partner, body: z.union([eventInputSchema, eventBatchInputSchema]),
      responses: { 202: { description: 'Recorded; each event with the number of subscriptions it was routed to', schema: acceptedEventsSchema }, 413: { description: 'An event over 16 KiB or a request over 1 MiB' }, 503: { description: 'Temporal did not record the events within 5 s, or a subscription they go to is behind by more than INGEST_SHED_AFTER_MS: nothing of the request is acknowledged; retry it after its Retry-After seconds with the same event ids' } },
    },
    {
      method: 'post', path: '/v1/partners/{partnerId}/subscriptions', operationId: 'createSubscription', tag: 'Subscriptions', auth: 'admin', temporal: true,
      summary: 'Create a subscription', description: 'An endpoint of the partner, the event types it wants, and its batching.',
      params: partner, body: createSubscriptionSchema(maxEventsLimit),
      responses: { 201: { description: 'The subscription, with its signing secret: the only time it is shown but for a rotation', schema: createdSubscriptionSchema } },
    },
    {
      method: 'post', path: '/v1/partners/{partnerId}/subscriptions/{id}/rotate-secret', operationId: 'rotateSigningSecret', tag: 'Subscriptions', auth: 'admin', temporal: true,
      summary: 'Rotate the signing secret', description: 'Makes a new secret, shown once; the previous one keeps signing beside it (a second signature) for 24 hours.',
      params: subscription,
      responses: { 200: { description: 'The new secret', schema: rotatedSecretSchema }, 409: { description: 'Signing is not configured (WEBHOOK_SIGNING_KEY)' } },
    },
    {
      method: 'post', path: '/v1/partners/{partnerId}/subscriptions/{id}/recover', operationId: 'recoverFailedBatches', tag: 'Batches', auth: 'admin', temporal: true,
      summary: 'Redeliver the failed batches of a time range',
      description: 'Every failed batch cut from `since` to `until` (default: now), oldest first, 5 a second, each with a fresh 26 attempts; one durable recovery per subscription at a time.',
      params: subscription, body: recoverySchema,
      responses: { 202: { description: 'Started', schema: recoveryProgressSchema }, 409: { description: 'A recovery of this subscription is running' } },
    },
    {
      method: 'get', path: '/v1/partners/{partnerId}/subscriptions/{id}/recover', operationId: 'getRecovery', tag: 'Batches', auth: 'admin', temporal: true,
      summary: "The latest recovery's progress", description: 'Batches found, redelivered, skipped, and how the redelivered ones ended so far.',
      params: subscription,
      responses: { 200: { description: 'Its progress', schema: recoveryProgressSchema } },
    },
    {
      method: 'get', path: '/v1/partners/{partnerId}/subscriptions', operationId: 'listSubscriptions', tag: 'Subscriptions', auth: 'admin', temporal: true,
      summary: 'List subscriptions', description: "The partner's active subscriptions, oldest first (from Temporal's visibility store: about a second behind).",
      params: partner,
      responses: { 200: { description: 'The subscriptions', schema: z.object({ subscriptions: z.array(subscriptionSummarySchema) }) } },
    },
    {
      method: 'get', path: '/v1/partners/{partnerId}/subscriptions/{id}', operationId: 'getSubscription', tag: 'Subscriptions', auth: 'admin', temporal: true,
      summary: 'Read a subscription', description: 'With its pending events and endpoint health.',
      params: subscription,
      responses: { 200: { description: 'The subscription', schema: ref('Subscription') } },
    },
    {
      method: 'patch', path: '/v1/partners/{partnerId}/subscriptions/{id}', operationId: 'updateSubscription', tag: 'Subscriptions', auth: 'admin', temporal: true,
      summary: 'Change a subscription', description: 'Any of url, eventTypes, batching, enabled; applies from the next batch.',
      params: subscription, body: patchSubscriptionSchema(maxEventsLimit),
      responses: { 200: { description: 'The subscription', schema: ref('Subscription') } },
    },
    {
      method: 'delete', path: '/v1/partners/{partnerId}/subscriptions/{id}', operationId: 'deleteSubscription', tag: 'Subscriptions', auth: 'admin', temporal: true,
      summary: 'Delete a subscription', description: 'Answers once the pending events are cut into a last batch.',
      params: subscription,
      responses: { 204: { description: 'Deleted' } },
    },
    {
      method: 'get', path: '/v1/partners/{partnerId}/subscriptions/{id}/batches', operationId: 'listBatches', tag: 'Batches', auth: 'admin', temporal: true,
      summary: "List a subscription's batches",
      description: 'One page: pending batches first, then by when they ended, newest first; the latest run of each batch, so a page may hold fewer than `limit`. Pass `nextCursor` as `cursor` for the next page.',
      params: subscription, query: batchPageQuerySchema.shape,
      responses: { 200: { description: 'A page of batches', schema: batchPageSchema } },
    },
    {
      method: 'get', path: '/v1/batches/{batchId}', operationId: 'getBatch', tag: 'Batches', auth: 'admin', temporal: true,
      summary: 'Read a batch', description: 'With its attempts and the exact payload.',
      params: { batchId: batchIdSchema },
      responses: { 200: { description: 'The batch', schema: batchSchema } },
    },
    {
      method: 'post', path: '/v1/batches/{batchId}/redeliver', operationId: 'redeliverBatch', tag: 'Batches', auth: 'admin', temporal: true,
      summary: 'Redeliver a failed batch', description: 'The same batch_id and bytes, a fresh 26 attempts.',
      params: { batchId: batchIdSchema },
      responses: { 202: { description: 'Started again', schema: z.object({ batchId: z.uuid(), status: z.literal('pending') }) }, 409: { description: 'The batch is not failed' } },
    },
    {
      method: 'post', path: '/v1/event-types', operationId: 'createEventType', tag: 'Event types', auth: 'admin', temporal: true,
      summary: 'Add an event type to the catalog', description: 'With an optional JSON Schema (draft 2020-12) for `data`, and an example that satisfies it.',
      body: createEventTypeSchema,
      responses: { 201: { description: 'The event type', schema: ref('EventType') }, 409: { description: 'The name is taken' } },
    },
    {
      method: 'get', path: '/v1/event-types', operationId: 'listEventTypes', tag: 'Event types', auth: 'admin', temporal: true,
      summary: 'List the catalog', description: 'Every event type, archived ones too, by name.',
      responses: { 200: { description: 'The event types', schema: z.object({ eventTypes: z.array(eventTypeResponseSchema) }) } },
    },
    {
      method: 'get', path: '/v1/event-types/{name}', operationId: 'getEventType', tag: 'Event types', auth: 'admin', temporal: true,
      summary: 'Read an event type', description: 'Its definition and version.',
      params: { name: eventTypeSchema },
      responses: { 200: { description: 'The event type', schema: ref('EventType') } },
    },
    {
      method: 'patch', path: '/v1/event-types/{name}', operationId: 'updateEventType', tag: 'Event types', auth: 'admin', temporal: true,
      summary: 'Change an event type', description: 'Any of description, schema, example, archived; bumps its version.',
      params: { name: eventTypeSchema }, body: patchEventTypeSchema,
      responses: { 200: { description: 'The event type', schema: ref('EventType') }, 409: { description: 'It changed meanwhile: read it again' } },
    },
    {
      method: 'post', path: '/v1/event-types/{name}/archive', operationId: 'archiveEventType', tag: 'Event types', auth: 'admin', temporal: true,
      summary: 'Archive an event type', description: 'No longer offered to new subscriptions; its events are still accepted and checked.',
      params: { name: eventTypeSchema },
      responses: { 200: { description: 'The event type', schema: ref('EventType') }, 409: { description: 'It changed meanwhile: read it again' } },
    },
    {
      method: 'post', path: '/v1/partners/{partnerId}/portal-links', operationId: 'createPortalLink', tag: 'Depo', auth: 'admin', temporal: false,
      summary: 'Issue a Depo sign-in link', description: "A signed 15-minute link to the partner's pages.",
      params: partner,
      responses: { 201: { description: 'The link', schema: z.object({ url: z.url(), expiresAt: isoTime }) } },
    },
    {
      method: 'get', path: '/healthz', operationId: 'health', tag: 'Health', auth: 'none', temporal: false,
      summary: 'Health', description: 'Whether Temporal answers.',
      responses: { 200: { description: 'Temporal answers', schema: statusSchema }, 503: { description: 'Temporal is not reachable', schema: statusSchema } },
    },
    {
      method: 'get', path: '/livez', operationId: 'liveness', tag: 'Health', auth: 'none', temporal: false,
      summary: 'Liveness', description: 'The process answers.',
      responses: { 200: { description: 'Alive', schema: statusSchema } },
    },
    {
      method: 'get', path: '/readyz', operationId: 'readiness', tag: 'Health', auth: 'none', temporal: false,
      summary: 'Readiness', description: 'Temporal answers and the process is not stopping.',
      responses: { 200: { description: 'Ready', schema: statusSchema }, 503: { description: 'Stopping, or Temporal is not reachable', schema: statusSchema } },
    },
    {
      method: 'get', path: '/openapi.json', operationId: 'openapi', tag: 'Health', auth: 'none', temporal: false,
      summary: 'This document', description: 'The OpenAPI 3.1 description of this API.',
      responses: { 200: { description: 'The document', schema: z.object({ openapi: z.string() }).loose() } },
    },
  ];
}

// --- The document ------------------------------------------------------------------------------

/** JSON Schema (2020-12, OpenAPI 3.1's dialect) of a zod schema; `z.custom` JSON objects become `type: object`. */
function jsonSchema(schema: Schema, io: 'input' | 'output'): Record<string, unknown> {
  if ('$ref' in schema) return schema;
  const converted = z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    io,
    unrepresentable: 'any',
    override: (ctx) => {
      if ((ctx.zodSchema as { _zod: { def: { type: string } } })._zod.def.type === 'custom') ctx.jsonSchema.type = 'object';
    },
  }) as Record<string, unknown>;
  delete converted.$schema;
  return converted;
}

const problemResponse = (description: string) => ({ description, content: { 'application/problem+json': { schema: ref('Problem') } } });

export function openApiDocument({ maxEventsLimit, version }: { maxEventsLimit: number; version: string }) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const op of operations(maxEventsLimit)) {
    const parameters = [
      ...Object.entries(op.params ?? {}).map(([name, schema]) => ({ name, in: 'path', required: true, schema: jsonSchema(schema, 'input') })),
      ...Object.entries(op.query ?? {}).map(([name, schema]) => ({ name, in: 'query', required: false, schema: jsonSchema(schema, 'input') })),
    ];
    const responses: Record<string, unknown> = {};
    for (const [status, { description, schema }] of Object.entries(op.responses)) {
      responses[status] =
        Number(status) >= 400 && !schema
          ? problemResponse(description)
          : { description, ...(schema ? { content: { 'application/json': { schema: jsonSchema(schema, 'output') } } } : {}) };
    }
    if (op.body || parameters.length > 0) responses['400'] ??= problemResponse('Bad input: the errors name each field');
    if (op.auth !== 'none') responses['401'] ??= problemResponse('No bearer token, or not a valid one');
    if (op.auth === 'admin') responses['403'] ??= problemResponse('A producer token: it may only publish events');
    if (op.params) responses['404'] ??= problemResponse('No such resource');
    if (op.temporal) responses['503'] ??= problemResponse('Temporal did not answer in time: nothing was done; retry');
    (paths[op.path] ??= {})[op.method] = {
      operationId: op.operationId,
      summary: op.summary,
      description: op.description,
      tags: [op.tag],
      ...(op.auth === 'none' ? { security: [] } : {}),
      ...(parameters.length > 0 ? { parameters } : {}),
      ...(op.body ? { requestBody: { required: true, content: { 'application/json': { schema: jsonSchema(op.body, 'input') } } } } : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Webhooks API',
      version,
      description: 'Publish events, manage partners\' subscriptions and the event-type catalog, inspect batches. Every /v1 route needs `Authorization: Bearer <API_TOKEN>`; errors are `application/problem+json`.',
      license: { name: 'Proprietary', identifier: 'LicenseRef-Proprietary' },
    },
    servers: [{ url: '/', description: 'This API process' }],
    security: [{ bearer: [] }],
    tags: [
      { name: 'Events', description: 'What producers send: a producer token may use this and nothing else.' },
      { name: 'Subscriptions', description: "Partners' endpoints and the event types each wants." },
      { name: 'Batches', description: 'What was delivered, or is being tried, with the exact payload.' },
      { name: 'Event types', description: 'The catalog: names, descriptions, schemas for `data`, examples.' },
      { name: 'Depo', description: "Sign-in links to the partners' pages." },
      { name: 'Health', description: 'Probes for load balancers and orchestrators, and this document.' },
    ],
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'API_TOKEN (admin) or a producer token from API_TOKENS' } },
      schemas: {
        Subscription: jsonSchema(subscriptionSchema, 'output'),
        EventType: jsonSchema(eventTypeResponseSchema, 'output'),
        Problem: jsonSchema(problemSchema, 'output'),
      },
    },
  };
}

export type OpenApiDocument = ReturnType<typeof openApiDocument>;
