import { randomBytes, randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import { Hono } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { HTTPException } from 'hono/http-exception';
import type { ApiToken, Config } from '../domain/config';
import {
  batchIdSchema,
  batchStatusSchema,
  createSubscriptionSchema,
  eventsRequestSchema,
  MAX_EVENT_BYTES,
  MAX_SIGNAL_BYTES,
  partnerIdSchema,
  patchSubscriptionSchema,
  subscriptionIdSchema,
  type EventInput,
  type WebhookEvent,
} from '../domain/schema';
import { subscriptionWorkflowId } from '../workflows/ids';
import { eventsSignal } from '../workflows/messages';
import { bearerAuth, requireAdmin, type AuthVariables } from './auth';
import { BatchStore } from './batch-store';
import { resolvedEndpointProblem, type Resolver } from '../domain/endpoint-policy';
import { EventRouter } from './event-router';
import { badRequest, notFound, ProblemError, tooLarge, unavailable } from './problem';
import { ApiMetrics, logJson } from './observability';
import { SignalCommitter } from './signal-committer';
import { SubscriptionStore } from './subscription-store';
import { isGoneError, isUnavailableError } from './temporal-errors';
import { parseJsonBody, parseParam } from './validation';
import { createPortal } from './portal/routes';
import { PortalKeys } from './portal/session';

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

/** How long an event request waits for Temporal to record its signal before answering 503. */
const SIGNAL_DEADLINE_MS = 5_000;

/** The HTTP API: one small Hono app per resource, mounted on a root that renders every error. */

export function createApp({ client, config, tokens, resolver, metrics = new ApiMetrics(), isStopping = () => false, portalKeys: keys }: AppDeps) {
  const subscriptions = new SubscriptionStore(client, config);
  const batches = new BatchStore(client, config);
  const router = new EventRouter(
    () => subscriptions.listAll(),
    Date.now,
    (err) => logJson('warn', 'routing table refresh failed; routing with the previous table', { error: String(err) }),
  );
  const committer = new SignalCommitter(
    async (workflowId, events) => {
      try {
        // The client retries an unreachable server on its own; a deadline turns a long outage
        // into a prompt 503 (nothing acknowledged: the producer retries under the same ids).
        await client.withDeadline(Date.now() + SIGNAL_DEADLINE_MS, () => client.workflow.getHandle(workflowId).signal(eventsSignal, { events }));
        metrics.signals.inc();
        return true;
      } catch (err) {
        if (isGoneError(err)) return false;
        throw err;
      }
    },
    { minIntervalMs: config.ingest.signalIntervalMs, maxSignalBytes: MAX_SIGNAL_BYTES },
  );
  const createSchema = createSubscriptionSchema(config.batching.maxEventsLimit);
  const patchSchema = patchSubscriptionSchema(config.batching.maxEventsLimit);

  /** The endpoint policy when a url is saved: its host is resolved, and a private address refused. */
  const checkEndpoint = async (url: string | undefined) => {
    if (url === undefined) return;
    const problem = await resolvedEndpointProblem(url, config.delivery, resolver);
    if (problem) throw badRequest(`body.url: ${problem}`, [{ path: 'body.url', message: problem }]);
  };

  const portalKeys = keys ?? new PortalKeys(config.portal.secret ?? randomPortalSecret());

  const partners = new Hono()
    // A signed, expiring sign-in link to Depo for one partner (docs/portal.md).
    .post('/:partnerId/portal-links', async (c) => {
      const partnerId = parseParam(partnerIdSchema, c.req.param('partnerId'), 'partnerId');
      const { token, expiresAt } = await portalKeys.issueLink(partnerId);
      return c.json({ url: new URL(`/portal/login?token=${token}`, c.req.url).toString(), expiresAt }, 201);
    })
    .post('/:partnerId/subscriptions', async (c) => {
      const partnerId = parseParam(partnerIdSchema, c.req.param('partnerId'), 'partnerId');
      const input = await parseJsonBody(c, createSchema);
      await checkEndpoint(input.url);
      const view = await subscriptions.create(partnerId, input);
      router.noteSaved(partnerId, view);
      return c.json(view, 201);
    })
    .get('/:partnerId/subscriptions', async (c) => {
      const partnerId = parseParam(partnerIdSchema, c.req.param('partnerId'), 'partnerId');
      return c.json({ subscriptions: await subscriptions.list(partnerId) });
    })
    .get('/:partnerId/subscriptions/:id', async (c) => {
      const partnerId = parseParam(partnerIdSchema, c.req.param('partnerId'), 'partnerId');
      const id = parseParam(subscriptionIdSchema, c.req.param('id'), 'id');
      return c.json(await subscriptions.get(partnerId, id));
    })
    .patch('/:partnerId/subscriptions/:id', async (c) => {
      const partnerId = parseParam(partnerIdSchema, c.req.param('partnerId'), 'partnerId');
      const id = parseParam(subscriptionIdSchema, c.req.param('id'), 'id');
      const patch = await parseJsonBody(c, patchSchema);
      await checkEndpoint(patch.url);
      if (patch.eventTypes) patch.eventTypes = [...new Set(patch.eventTypes)];
      const view = await subscriptions.update(partnerId, id, patch);
      if (view.enabled) router.noteSaved(partnerId, view);
      else router.noteRemoved(partnerId, id);
      return c.json(view);
    })
    .delete('/:partnerId/subscriptions/:id', async (c) => {
      const partnerId = parseParam(partnerIdSchema, c.req.param('partnerId'), 'partnerId');
      const id = parseParam(subscriptionIdSchema, c.req.param('id'), 'id');
      await subscriptions.delete(partnerId, id);
      router.noteRemoved(partnerId, id);
      return c.body(null, 204);
    })
    .get('/:partnerId/subscriptions/:id/batches', async (c) => {
      const partnerId = parseParam(partnerIdSchema, c.req.param('partnerId'), 'partnerId');
      const id = parseParam(subscriptionIdSchema, c.req.param('id'), 'id');
      const status = parseParam(batchStatusSchema.optional(), c.req.query('status'), 'status');
      await subscriptions.get(partnerId, id).catch(async (err: unknown) => {
        // A deleted subscription's batches stay listable while it has any.
        if (!(err instanceof ProblemError && err.status === 404)) throw err;
        if ((await batches.list(partnerId, id)).length === 0) throw err;
      });
      return c.json({ batches: await batches.list(partnerId, id, status) });
    });

  // The one route a producer token may use.
  const events = new Hono()
    .post('/:partnerId/events', async (c) => {
      const partnerId = parseParam(partnerIdSchema, c.req.param('partnerId'), 'partnerId');
      const body = await parseJsonBody(c, eventsRequestSchema);
      const sized = (Array.isArray(body) ? body : [body]).map(toWebhookEvent);
      const counts = await routeAndSignal(partnerId, sized);
      const events = sized.map(({ event }) => event);
      metrics.eventsAccepted.inc(events.length);
      metrics.eventsRouted.inc(counts.reduce((sum, n) => sum + n, 0));
      return c.json({ events: events.map((event, i) => ({ id: event.id, subscriptions: counts[i] })) }, 202);
    });

  const batchRoutes = new Hono()
    .get('/:batchId', async (c) => {
      const batchId = parseParam(batchIdSchema, c.req.param('batchId'), 'batchId');
      return c.json(await batches.get(batchId));
    })
    .post('/:batchId/redeliver', async (c) => {
      const batchId = parseParam(batchIdSchema, c.req.param('batchId'), 'batchId');
      await batches.redeliver(batchId);
      return c.json({ batchId, status: 'pending' }, 202);
    });

  /**
   * Hands each subscription the events routed to it, in acceptance order, to the group commit,
   * and resolves only once Temporal has recorded every signal carrying them: the 202 then means
   * nothing can be lost. Answers, for each event, how many subscriptions it was routed to.
   */
  async function routeAndSignal(partnerId: string, events: SizedEvent[]): Promise<number[]> {
    const bySubscription = new Map<string, { indexes: number[]; events: WebhookEvent[]; sizes: number[] }>();
    for (const [index, { event, bytes }] of events.entries()) {
      for (const subscriptionId of await router.subscriptionsFor(partnerId, event.type)) {
        let group = bySubscription.get(subscriptionId);
        if (!group) bySubscription.set(subscriptionId, (group = { indexes: [], events: [], sizes: [] }));
        group.indexes.push(index);
        group.events.push(event);
        group.sizes.push(bytes);
      }
    }
    const counts = events.map(() => 0);
    await Promise.all(
      [...bySubscription].map(async ([subscriptionId, group]) => {
        const recorded = await committer.submit(subscriptionWorkflowId(partnerId, subscriptionId), group.events, group.sizes);
        if (!recorded) {
          router.noteRemoved(partnerId, subscriptionId);
          return;
        }
        for (const index of group.indexes) counts[index]!++;
      }),
    );
    return counts;
  }

  /** Depo's "send a test event": one `depo.test` event to this subscription only, recorded like any other. */
  async function sendTestEvent(partnerId: string, subscriptionId: string): Promise<string> {
    const { event, bytes } = toWebhookEvent({ type: 'depo.test', data: { message: 'A test event sent from Depo', subscriptionId } }, 0);
    const recorded = await committer.submit(subscriptionWorkflowId(partnerId, subscriptionId), [event], [bytes]);
    if (!recorded) throw notFound(`partner ${partnerId} has no subscription ${subscriptionId}`);
    return event.id;
  }

  const v1 = new Hono<{ Variables: AuthVariables }>()
    .use(bearerAuth(tokens))
    .route('/partners', events)
    .use(requireAdmin)
    .route('/partners', partners)
    .route('/batches', batchRoutes);

  metrics.watchBatches(async (query) => (await client.workflow.count(query)).count);

  const temporalReachable = async () => {
    try {
      await client.connection.withDeadline(Date.now() + 2_000, () => client.workflowService.getSystemInfo({}));
      return true;
    } catch {
      return false;
    }
  };

  const app = new Hono()
    .use(metrics.middleware())
    .use(
      bodyLimit({
        maxSize: MAX_REQUEST_BYTES,
        onError: () => {
          throw tooLarge(`the request body is larger than ${MAX_REQUEST_BYTES} bytes`);
        },
      }),
    )
    .get('/healthz', async (c) =>
      (await temporalReachable()) ? c.json({ status: 'ok' }) : c.json({ status: 'unavailable', detail: 'Temporal is not reachable' }, 503),
    )
    // Liveness: the process answers. Readiness: it can take traffic (Temporal reachable, not stopping).
    .get('/livez', (c) => c.json({ status: 'ok' }))
    .get('/readyz', async (c) => {
      if (isStopping()) return c.json({ status: 'stopping' }, 503);
      return (await temporalReachable()) ? c.json({ status: 'ready' }) : c.json({ status: 'unavailable', detail: 'Temporal is not reachable' }, 503);
    })
    .get('/metrics', async (c) => c.body(await metrics.registry.metrics(), 200, { 'content-type': metrics.registry.contentType }))
    .route('/v1', v1)
    .route(
      '/portal',
      createPortal({
        keys: portalKeys,
        subscriptions,
        batches,
        maxEventsLimit: config.batching.maxEventsLimit,
        createSchema,
        patchSchema,
        checkEndpoint,
        noteSaved: (partnerId, view) => router.noteSaved(partnerId, view),
        noteRemoved: (partnerId, id) => router.noteRemoved(partnerId, id),
        sendTestEvent,
      }),
    );

  app.notFound(() => {
    throw new ProblemError(404, 'Not Found', 'no such route');
  });
  app.onError((err, c) => {
    const problem = toProblem(err);
    if (problem.status >= 500) logJson('error', 'request failed', { method: c.req.method, path: c.req.path, error: String(err), stack: (err).stack });
    return c.body(JSON.stringify(problem), problem.status as 400, { 'content-type': 'application/problem+json' });
  });
  return app;
}

interface SizedEvent {
  event: WebhookEvent;
  /** Its size as JSON, in bytes. */
  bytes: number;
}

function toWebhookEvent(input: EventInput, index: number): SizedEvent {
  const event = {
    id: input.id ?? randomUUID(),
    createdAt: input.createdAt ? new Date(input.createdAt).toISOString() : new Date().toISOString(),
    type: input.type,
    data: input.data,
  };
  const bytes = Buffer.byteLength(JSON.stringify(event));
  if (bytes > MAX_EVENT_BYTES) {
    throw tooLarge(`event ${index} is ${bytes} bytes as JSON; the limit for one event is ${MAX_EVENT_BYTES} bytes`);
  }
  return { event, bytes };
}

function toProblem(err: unknown): ProblemError {
  if (err instanceof ProblemError) return err;
  if (err instanceof HTTPException) return new ProblemError(err.status, 'HTTP Error', err.message);
  if (isUnavailableError(err)) {
    return unavailable('Temporal did not confirm in time; nothing of this request is acknowledged: retry it with the same event ids');
  }
  return new ProblemError(500, 'Internal Server Error', 'the request failed; see the API log');
}

/** Without PORTAL_SECRET each process signs with its own key: links work only on the process that issued them. */
function randomPortalSecret(): string {
  logJson('warn', 'PORTAL_SECRET is not set: Depo links and sessions are signed with a key of this process only');
  return randomBytes(32).toString('base64url');
}
