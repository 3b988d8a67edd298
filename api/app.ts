import { randomBytes } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { Hono, type MiddlewareHandler } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import type { ApiToken, Config } from '../platform/config';
import type { Resolver } from '../platform/endpoint-resolver';
import { createSubscriptionSchema, patchSubscriptionSchema } from '../domain/schema';
import { bearerAuth, type AuthVariables } from './auth';
import { BatchStore } from '../stores/batch-store';
import { EventCatalog } from './event-catalog';
import { EventRouter } from './ingest/event-router';
import { EventTypeStore } from '../stores/event-type-store';
import { logJson } from '../platform/log';
import { ApiMetrics } from './observability';
import { openApiDocument } from './openapi';
import { createPortal } from './portal/routes';
import { PortalKeys } from './portal/session';
import { problemOf, ProblemError, tooLarge, unavailable } from '../platform/problem';
import { RefusalLog } from './ingest/refusal-log';
import { batchRoutes, type BatchService } from './routes/batches';
import { eventTypeRoutes } from './routes/event-types';
import { eventRoutes } from './routes/events';
import { healthRoutes } from './routes/health';
import { portalLinkRoutes } from './routes/portal-links';
import { referenceRoutes } from './routes/reference';
import { subscriptionRoutes } from './routes/subscriptions';
import { EventIngest, type EventIngestService } from './services/event-ingest';
import { EventTypes, type EventTypeService } from './services/event-types';
import { Subscriptions, type SubscriptionService } from './services/subscriptions';
import { RecoveryStore } from '../stores/recovery-store';
import { SubscriptionStore } from '../stores/subscription-store';
import { isUnavailableError } from '../stores/temporal-errors';
import packageJson from '../package.json' with { type: 'json' };

/** The API's version, as the OpenAPI document gives it: the package's. */
const API_VERSION = packageJson.version;

/** Requests larger than this are refused with 413; it also bounds one signal's payload. */
export const MAX_REQUEST_BYTES = 1024 * 1024;

export interface AppDeps {
  client: Client;
  config: Config;
  /** Bearer tokens for /v1, each with its role. */
  tokens: ApiToken[];
  /** DNS resolution for the endpoint policy; tests inject one. */
  resolver?: Resolver;
  metrics?: ApiMetrics;
  /** True once the process is stopping: /readyz then answers 503 so no new traffic is sent. */
  isStopping?: () => boolean;
  /** Signs Depo's links and sessions; defaults to PORTAL_SECRET. */
  portalKeys?: PortalKeys;
}

/** The HTTP API on Temporal: the services, then the routes over them. */
export function createApp({ client, config, tokens, resolver, metrics = new ApiMetrics(), isStopping = () => false, portalKeys }: AppDeps) {
  const store = new SubscriptionStore(client, config);
  const batches = new BatchStore(client, config);
  const router = new EventRouter(
    store,
    Date.now,
    (err) => logJson('warn', 'routing table refresh failed; routing with the previous table', { error: String(err) }),
  );
  const eventTypeStore = new EventTypeStore(client, config);
  const catalog = new EventCatalog(
    () => eventTypeStore.list(),
    config.catalog.unknownTypes,
    Date.now,
    (err) => logJson('warn', 'event-type catalog refresh failed; checking with the previous one', { error: String(err) }),
  );
  const subscriptions = new Subscriptions(store, router, batches, new RecoveryStore(client, config), catalog, config.delivery, config.signing.key, resolver);
  metrics.watchBatches(async (query) => (await client.workflow.count(query)).count);
  return createRoutes({
    services: {
      subscriptions,
      ingest: new EventIngest(client, config, router, catalog, metrics),
      batches,
      eventTypes: new EventTypes(eventTypeStore, catalog),
      catalog,
    },
    tokens,
    maxEventsLimit: config.batching.maxEventsLimit,
    portalKeys: portalKeys ?? new PortalKeys(config.portal.secret ?? randomPortalSecret()),
    metrics,
    isStopping,
    temporalReachable: async () => {
      try {
        await client.connection.withDeadline(Date.now() + 2_000, () => client.workflowService.getSystemInfo({}));
        return true;
      } catch {
        return false;
      }
    },
  });
}

export interface Services {
  subscriptions: SubscriptionService;
  ingest: EventIngestService;
  batches: BatchService;
  eventTypes: EventTypeService;
  /** The catalog as this process sees it: what Depo offers a partner. */
  catalog: Pick<EventCatalog, 'list' | 'unknownTypes'>;
}

export interface RouteDeps {
  services: Services;
  tokens: ApiToken[];
  /** BATCH_MAX_EVENTS_LIMIT: the largest `maxEvents` a subscription may ask for. */
  maxEventsLimit: number;
  portalKeys: PortalKeys;
  metrics: ApiMetrics;
  isStopping: () => boolean;
  temporalReachable: () => Promise<boolean>;
}

/**
 * The root: one router per resource, mounted here, and every error rendered as problem+json.
 * Each /v1 router guards its own admin-only routes; a producer token may only post events.
 */
export function createRoutes({ services, tokens, maxEventsLimit, portalKeys, metrics, isStopping, temporalReachable }: RouteDeps) {
  const schemas = { create: createSubscriptionSchema(maxEventsLimit), patch: patchSubscriptionSchema(maxEventsLimit) };
  const v1 = new Hono<{ Variables: AuthVariables }>()
    .use(bearerAuth(tokens))
    .route('/partners/:partnerId/events', eventRoutes(services.ingest))
    .route('/partners/:partnerId/subscriptions', subscriptionRoutes(services.subscriptions, schemas))
    .route('/partners/:partnerId/portal-links', portalLinkRoutes(portalKeys))
    .route('/batches', batchRoutes(services.batches))
    .route('/event-types', eventTypeRoutes(services.eventTypes));

  const app = new Hono()
    .use(metrics.middleware())
    .use(limitRequestBodies())
    .route('/', healthRoutes({ temporalReachable, isStopping, metrics }))
    .route('/', referenceRoutes(openApiDocument({ maxEventsLimit, version: API_VERSION })))
    .route('/v1', v1)
    .route('/portal', createPortal({ keys: portalKeys, ...services, maxEventsLimit, schemas }));

  app.notFound(() => {
    throw new ProblemError(404, 'Not Found', 'no such route');
  });
  const refusals = new RefusalLog((fields) => logJson('warn', 'requests refused for load (503, Retry-After)', fields));
  app.onError((err, c) => {
    const problem = toProblem(err);
    if (problem.status >= 500 && problem.retryAfterSeconds !== undefined) refusals.note({ method: c.req.method, path: c.req.path, detail: problem.detail });
    else if (problem.status >= 500) logJson('error', 'request failed', { method: c.req.method, path: c.req.path, error: String(err), ...causeOf(err), stack: err.stack });
    const headers: Record<string, string> = { 'content-type': 'application/problem+json' };
    if (problem.retryAfterSeconds !== undefined) headers['retry-after'] = String(problem.retryAfterSeconds);
    return c.body(JSON.stringify(problem), problem.status as 400, headers);
  });
  return app;
}

/**
 * 413 for a body over MAX_REQUEST_BYTES. A declared Content-Length is checked from the header
 * alone: Hono's bodyLimit reads `c.req.raw.body`, which makes @hono/node-server build a whole
 * web-standard Request (a ReadableStream, an AbortSignal) for every event post, about a third of
 * the API's CPU per event; without it `c.req.json()` reads the socket directly. A chunked body,
 * whose length is known only as it streams, still goes through bodyLimit.
 */
function limitRequestBodies(): MiddlewareHandler {
  const tooLargeError = () => tooLarge(`the request body is larger than ${MAX_REQUEST_BYTES} bytes`);
  const streamed = bodyLimit({
    maxSize: MAX_REQUEST_BYTES,
    onError: () => {
      throw tooLargeError();
    },
  });
  return async (c, next) => {
    if (c.req.method === 'GET' || c.req.method === 'HEAD') return next();
    const length = c.req.header('content-length');
    if (length === undefined || c.req.header('transfer-encoding') !== undefined) return streamed(c, next);
    if (Number(length) > MAX_REQUEST_BYTES) throw tooLargeError();
    return next();
  };
}

function toProblem(err: unknown): ProblemError {
  const known = problemOf(err);
  if (known) return known;
  if (err instanceof HTTPException) return new ProblemError(err.status, 'HTTP Error', err.message);
  if (isUnavailableError(err)) {
    return unavailable('Temporal did not confirm in time; nothing of this request is acknowledged: retry it with the same event ids', 1);
  }
  return new ProblemError(500, 'Internal Server Error', 'the request failed; see the API log');
}

/** What a wrapped error says underneath (Temporal's ServiceError wraps the gRPC status and its details). */
function causeOf(err: Error): { cause?: string } {
  const cause = (err as { cause?: unknown }).cause;
  if (cause === undefined) return {};
  if (cause instanceof Error) {
    const details = 'details' in cause && typeof cause.details === 'string' && cause.details ? ` (${cause.details})` : '';
    return { cause: `${cause.name}: ${cause.message}${details}` };
  }
  return { cause: JSON.stringify(cause) };
}

/** Without PORTAL_SECRET each process signs with its own key: links work only on the process that issued them. */
function randomPortalSecret(): string {
  logJson('warn', 'PORTAL_SECRET is not set: Depo links and sessions are signed with a key of this process only');
  return randomBytes(32).toString('base64url');
}
