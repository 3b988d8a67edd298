import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createRoutes, MAX_REQUEST_BYTES, type Services } from '../../api/app';
import type { BatchDetail, BatchPageOptions, BatchSummary } from '../../stores/batch-store';
import { ApiMetrics } from '../../api/observability';
import { PortalKeys } from '../../api/portal/session';
import { ConflictError, InvalidInputError, NotFoundError } from '../../domain/errors';
import type { AcceptedEvent } from '../../api/services/event-ingest';
import type { CreateSubscriptionInput } from '../../stores/subscription-store';
import type { EventInput, SubscriptionConfigPatch } from '../../domain/schema';
import type { SubscriptionView } from '../../workflows/messages';

/**
 * The routes over in-memory services: authentication and roles, path and body validation, status
 * codes and problem+json. What the services do on Temporal is tested in test/integration.
 */

const ADMIN = 'admin-token-0123456789abcdef';
const PRODUCER = 'producer-token-0123456789abcdef';

const recovery = { status: 'finding' as const, since: '2026-11-01T00:00:00.000Z', until: '2026-11-02T00:00:00.000Z', found: 0, redelivered: 0, skipped: 0, delivered: 0, failedAgain: 0, startedAt: '2026-11-30T00:00:00.000Z', finishedAt: null };

/** In-memory services that record every call the routes make. */
function fakeServices() {
  const calls: string[] = [];
  const views = new Map<string, SubscriptionView>();
  const batch: BatchDetail = {
    batchId: randomUUID(),
    partnerId: 'acme',
    subscriptionId: randomUUID(),
    status: 'failed',
    eventCount: 1,
    sequence: 1,
    createdAt: '2026-11-30T00:00:00.000Z',
    attempts: 26,
    payload: { batch_id: 'x', events: [] },
  };
  const redelivered = new Set<string>();
  const find = (partnerId: string, id: string) => {
    const view = views.get(id);
    if (!view || view.partnerId !== partnerId) throw new NotFoundError(`partner ${partnerId} has no subscription ${id}`);
    return view;
  };
  const services: Services = {
    subscriptions: {
      async create(partnerId: string, input: CreateSubscriptionInput) {
        calls.push(`create ${partnerId}`);
        const now = new Date().toISOString();
        const view: SubscriptionView = {
          id: randomUUID(),
          partnerId,
          url: input.url,
          eventTypes: input.eventTypes,
          batching: { windowMs: input.batching?.windowMs ?? 1000, maxEvents: input.batching?.maxEvents ?? 100 },
          createdAt: now,
          updatedAt: now,
          status: 'active',
          pendingEvents: 0,
          enabled: true,
          endpointHealth: { failingSince: null, probeBatchId: null, heldBatches: 0, disabledReason: null },
          signing: { generation: 1, previousUntil: null },
        };
        views.set(view.id, view);
        return { ...view, signingSecret: 'whsec_ZmFrZQ==' };
      },
      async rotateSecret(partnerId: string, id: string) {
        calls.push(`rotate ${partnerId} ${id}`);
        find(partnerId, id);
        return { signingSecret: 'whsec_bmV3', signing: { generation: 2, previousUntil: '2026-12-01T00:00:00.000Z' } };
      },
      async list(partnerId: string) {
        calls.push(`list ${partnerId}`);
        return [...views.values()].filter((view) => view.partnerId === partnerId);
      },
      async get(partnerId: string, id: string) {
        calls.push(`get ${partnerId} ${id}`);
        return find(partnerId, id);
      },
      async update(partnerId: string, id: string, patch: SubscriptionConfigPatch) {
        calls.push(`update ${partnerId} ${id}`);
        const view = { ...find(partnerId, id), ...(patch.url ? { url: patch.url } : {}), ...(patch.enabled !== undefined ? { enabled: patch.enabled } : {}) };
        views.set(id, view);
        return view;
      },
      async delete(partnerId: string, id: string) {
        calls.push(`delete ${partnerId} ${id}`);
        find(partnerId, id);
        views.delete(id);
      },
      async recover(partnerId: string, id: string, range: { since: string; until?: string }) {
        calls.push(`recover ${partnerId} ${id} ${range.since} ${range.until ?? 'now'}`);
        find(partnerId, id);
        return { ...recovery, since: range.since, until: range.until ?? 'now' };
      },
      async recovery(partnerId: string, id: string) {
        find(partnerId, id);
        return recovery;
      },
      async listBatches(partnerId: string, id: string, options?: BatchPageOptions) {
        calls.push(`batches ${partnerId} ${id} ${options?.status ?? 'any'} ${options?.limit ?? '-'} ${options?.cursor ?? '-'}`);
        find(partnerId, id);
        if (options?.cursor === 'foreign') throw new InvalidInputError('cursor: not the nextCursor of this listing', [{ path: 'cursor', message: 'not the nextCursor of this listing' }]);
        return { batches: [] as BatchSummary[], nextCursor: options?.cursor ? null : 'next-page' };
      },
    },
    ingest: {
      async publish(partnerId: string, inputs: EventInput[], inArray?: boolean): Promise<AcceptedEvent[]> {
        calls.push(`publish ${partnerId} ${inputs.map((e) => e.type).join(',')}${inArray ? ' (array)' : ''}`);
        return inputs.map((event, i) => ({ id: event.id ?? `generated-${i}`, subscriptions: 2 }));
      },
      async sendTestEvent(partnerId: string, subscriptionId: string) {
        calls.push(`test-event ${partnerId} ${subscriptionId}`);
        return randomUUID();
      },
    },
    eventTypes: {
      async create(input) {
        calls.push(`create type ${input.name}`);
        return { ...input, schema: input.schema ?? null, example: input.example ?? null, archived: false, version: 1, createdAt: '', updatedAt: '' };
      },
      async list() {
        return [];
      },
      async get(name: string) {
        calls.push(`get type ${name}`);
        throw new NotFoundError(`there is no event type ${name}`);
      },
      async update(name: string) {
        throw new NotFoundError(`there is no event type ${name}`);
      },
      async archive(name: string) {
        calls.push(`archive type ${name}`);
        throw new NotFoundError(`there is no event type ${name}`);
      },
    },
    catalog: { unknownTypes: 'allow', list: async () => [] },
    batches: {
      async get(batchId: string) {
        calls.push(`batch ${batchId}`);
        if (batchId !== batch.batchId) throw new NotFoundError(`there is no batch ${batchId}`);
        return batch;
      },
      async page() {
        return { batches: [], nextCursor: null };
      },
      async redeliver(batchId: string) {
        calls.push(`redeliver ${batchId}`);
        if (redelivered.has(batchId)) throw new ConflictError(`batch ${batchId} is pending; only a failed batch can be redelivered`);
        redelivered.add(batchId);
      },
    },
  };
  return { services, calls, batch };
}

function setup({ reachable = true, stopping = false } = {}) {
  const fake = fakeServices();
  const app = createRoutes({
    services: fake.services,
    tokens: [
      { role: 'admin', token: ADMIN },
      { role: 'producer', token: PRODUCER },
    ],
    maxEventsLimit: 100,
    portalKeys: new PortalKeys('a-test-secret-of-enough-length-0123456789'),
    metrics: new ApiMetrics(),
    isStopping: () => stopping,
    temporalReachable: async () => reachable,
  });
  const call = async (method: string, path: string, { token = ADMIN, body }: { token?: string | null; body?: unknown } = {}) => {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    const response = await app.request(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await response.text();
    return { status: response.status, type: response.headers.get('content-type'), json: text ? (JSON.parse(text) as Record<string, unknown>) : undefined };
  };
  return { ...fake, app, call };
}

const newSubscription = { url: 'https://partner.example/hook', eventTypes: ['order.created'] };

describe('the API routes', () => {
  it('hands an event post to ingest as a list, and answers 202 with each event and its subscription count', async () => {
    const { call, calls } = setup();
    const id = randomUUID();
    const one = await call('POST', '/v1/partners/acme/events', { token: PRODUCER, body: { id, type: 'order.created', data: { n: 1 } } });
    expect(one).toMatchObject({ status: 202, json: { events: [{ id, subscriptions: 2 }] } });
    const many = await call('POST', '/v1/partners/acme/events', { body: [{ type: 'a', data: {} }, { type: 'b', data: {} }] });
    expect(many.status).toBe(202);
    expect((many.json!.events as unknown[]).length).toBe(2);
    expect(calls).toEqual(['publish acme order.created', 'publish acme a,b (array)']);
  });

  it('lets a producer token post events and refuses it every admin route with 403, inside each router', async () => {
    const { call, calls, batch } = setup();
    const id = randomUUID();
    for (const [method, path] of [
      ['GET', '/v1/partners/acme/subscriptions'],
      ['POST', '/v1/partners/acme/subscriptions'],
      ['GET', `/v1/partners/acme/subscriptions/${id}`],
      ['PATCH', `/v1/partners/acme/subscriptions/${id}`],
      ['DELETE', `/v1/partners/acme/subscriptions/${id}`],
      ['GET', `/v1/partners/acme/subscriptions/${id}/batches`],
      ['POST', `/v1/partners/acme/subscriptions/${id}/rotate-secret`],
      ['POST', `/v1/partners/acme/subscriptions/${id}/recover`],
      ['GET', `/v1/partners/acme/subscriptions/${id}/recover`],
      ['POST', '/v1/partners/acme/portal-links'],
      ['GET', `/v1/batches/${batch.batchId}`],
      ['POST', `/v1/batches/${batch.batchId}/redeliver`],
      ['GET', '/v1/event-types'],
      ['POST', '/v1/event-types'],
      ['GET', '/v1/event-types/order.created'],
      ['PATCH', '/v1/event-types/order.created'],
      ['POST', '/v1/event-types/order.created/archive'],
    ] as const) {
      const refused = await call(method, path, { token: PRODUCER, body: method === 'POST' || method === 'PATCH' ? newSubscription : undefined });
      expect(refused.status, `${method} ${path}`).toBe(403);
      expect(refused.type).toBe('application/problem+json');
    }
    expect(calls).toEqual([]);
    expect((await call('POST', '/v1/partners/acme/events', { token: null, body: { type: 'a', data: {} } })).status).toBe(401);
    expect((await call('POST', '/v1/partners/acme/events', { token: 'not-a-token-0123456789', body: { type: 'a', data: {} } })).status).toBe(401);
    expect(calls).toEqual([]);
  });

  it('validates path ids before any service is called, naming the parameter', async () => {
    const { call, calls } = setup();
    const badPartner = await call('GET', '/v1/partners/not%20ok/subscriptions');
    expect(badPartner).toMatchObject({ status: 400, type: 'application/problem+json' });
    expect(badPartner.json!.errors).toEqual([{ path: 'partnerId', message: expect.stringContaining('partnerId must match') as string }]);
    const badId = await call('PATCH', '/v1/partners/acme/subscriptions/not-a-uuid', { body: { url: 'https://x.example' } });
    expect(badId.status).toBe(400);
    expect((badId.json!.errors as { path: string }[]).map((e) => e.path)).toEqual(['id']);
    expect((await call('POST', '/v1/batches/not-a-uuid/redeliver')).status).toBe(400);
    expect((await call('POST', '/v1/partners/not%20ok/events', { token: PRODUCER, body: { type: 'a', data: {} } })).status).toBe(400);
    expect((await call('POST', '/v1/partners/not%20ok/portal-links')).status).toBe(400);
    expect((await call('GET', '/v1/event-types/not%20ok')).status).toBe(400);
    expect(calls).toEqual([]);
  });

  it('creates, reads, changes, lists the batches of and deletes a subscription through the service', async () => {
    const { call, calls } = setup();
    const created = await call('POST', '/v1/partners/acme/subscriptions', { body: newSubscription });
    expect(created).toMatchObject({ status: 201, json: { partnerId: 'acme', url: newSubscription.url, signingSecret: 'whsec_ZmFrZQ==' } });
    const id = created.json!.id as string;
    expect(await call('POST', `/v1/partners/acme/subscriptions/${id}/rotate-secret`)).toMatchObject({ status: 200, json: { signingSecret: 'whsec_bmV3', signing: { generation: 2 } } });
    expect((await call('GET', `/v1/partners/acme/subscriptions/${id}`)).json).toMatchObject({ id });
    expect((await call('GET', '/v1/partners/acme/subscriptions')).json).toMatchObject({ subscriptions: [{ id }] });
    expect(await call('PATCH', `/v1/partners/acme/subscriptions/${id}`, { body: { enabled: false } })).toMatchObject({ status: 200, json: { enabled: false } });
    expect(await call('GET', `/v1/partners/acme/subscriptions/${id}/batches?status=failed`)).toMatchObject({ status: 200, json: { batches: [], nextCursor: 'next-page' } });
    expect(await call('GET', `/v1/partners/acme/subscriptions/${id}/batches?limit=20&cursor=next-page`)).toMatchObject({ status: 200, json: { nextCursor: null } });
    for (const bad of ['status=lost', 'limit=0', 'limit=501', 'limit=ten', 'cursor=%2F%2F']) {
      expect((await call('GET', `/v1/partners/acme/subscriptions/${id}/batches?${bad}`)).status, bad).toBe(400);
    }
    expect(await call('POST', `/v1/partners/acme/subscriptions/${id}/recover`, { body: { since: '2026-11-01T00:00:00Z' } })).toMatchObject({ status: 202, json: { status: 'finding', since: '2026-11-01T00:00:00Z' } });
    expect(await call('GET', `/v1/partners/acme/subscriptions/${id}/recover`)).toMatchObject({ status: 200, json: { found: 0 } });
    for (const body of [{}, { since: 'yesterday' }, { since: '2026-11-02T00:00:00Z', until: '2026-11-01T00:00:00Z' }, { since: '2026-11-01T00:00:00Z', extra: 1 }]) {
      expect((await call('POST', `/v1/partners/acme/subscriptions/${id}/recover`, { body })).status, JSON.stringify(body)).toBe(400);
    }
    expect(await call('DELETE', `/v1/partners/acme/subscriptions/${id}`)).toMatchObject({ status: 204, json: undefined });
    const gone = await call('GET', `/v1/partners/acme/subscriptions/${id}`);
    expect(gone).toMatchObject({ status: 404, type: 'application/problem+json', json: { detail: `partner acme has no subscription ${id}` } });
    expect(calls).toEqual(['create acme', `rotate acme ${id}`, `get acme ${id}`, 'list acme', `update acme ${id}`, `batches acme ${id} failed - -`, `batches acme ${id} any 20 next-page`, `recover acme ${id} 2026-11-01T00:00:00Z now`, `delete acme ${id}`, `get acme ${id}`]);
  });

  it('refuses a bad body with 400 naming the fields, and never calls the service', async () => {
    const { call, calls } = setup();
    const refused = await call('POST', '/v1/partners/acme/subscriptions', { body: { url: 'not a url', eventTypes: [], batching: { maxEvents: 101 } } });
    expect(refused.status).toBe(400);
    expect((refused.json!.errors as { path: string }[]).map((e) => e.path).sort()).toEqual(['body.batching.maxEvents', 'body.eventTypes', 'body.url']);
    expect((await call('POST', '/v1/partners/acme/events', { body: '{not json' })).status).toBe(400);
    expect(calls).toEqual([]);
  });

  it('reads and redelivers a batch; an unknown one is a 404 problem, a second redelivery a 409', async () => {
    const { call, calls, batch } = setup();
    expect(await call('GET', `/v1/batches/${batch.batchId}`)).toMatchObject({ status: 200, json: { batchId: batch.batchId, attempts: 26 } });
    expect(await call('POST', `/v1/batches/${batch.batchId}/redeliver`)).toMatchObject({ status: 202, json: { batchId: batch.batchId, status: 'pending' } });
    expect(await call('POST', `/v1/batches/${batch.batchId}/redeliver`)).toMatchObject({ status: 409, type: 'application/problem+json', json: { title: 'Conflict' } });
    const other = randomUUID();
    expect(await call('GET', `/v1/batches/${other}`)).toMatchObject({ status: 404, type: 'application/problem+json', json: { detail: `there is no batch ${other}` } });
    expect(calls).toEqual([`batch ${batch.batchId}`, `redeliver ${batch.batchId}`, `redeliver ${batch.batchId}`, `batch ${other}`]);
  });

  it('answers a store\'s refusal of a cursor as a 400 problem naming the field', async () => {
    const { call } = setup();
    const id = (await call('POST', '/v1/partners/acme/subscriptions', { body: newSubscription })).json!.id as string;
    expect(await call('GET', `/v1/partners/acme/subscriptions/${id}/batches?cursor=foreign`)).toMatchObject({
      status: 400,
      type: 'application/problem+json',
      json: { errors: [{ path: 'cursor', message: 'not the nextCursor of this listing' }] },
    });
  });

  it('creates an event type through the service and refuses a bad one before it', async () => {
    const { call, calls } = setup();
    expect(await call('POST', '/v1/event-types', { body: { name: 'order.created', schema: { type: 'object' } } })).toMatchObject({ status: 201, json: { name: 'order.created', description: '', version: 1 } });
    expect((await call('POST', '/v1/event-types', { body: { name: 'has space' } })).status).toBe(400);
    expect((await call('POST', '/v1/event-types', { body: { name: 'x', schema: [] } })).status).toBe(400);
    expect((await call('PATCH', '/v1/event-types/x', { body: {} })).status).toBe(400);
    expect(await call('POST', '/v1/event-types/x/archive')).toMatchObject({ status: 404, type: 'application/problem+json' });
    expect(calls).toEqual(['create type order.created', 'archive type x']);
  });

  it('issues a Depo sign-in link that opens for that partner only', async () => {
    const { call } = setup();
    const link = await call('POST', '/v1/partners/acme/portal-links');
    expect(link.status).toBe(201);
    const url = new URL(link.json!.url as string);
    expect(url.pathname).toBe('/portal/login');
    expect(await new PortalKeys('a-test-secret-of-enough-length-0123456789').openLink(url.searchParams.get('token')!)).toBe('acme');
  });

  it('answers health and readiness from Temporal reachability and the stopping flag, without a token', async () => {
    const up = setup();
    expect(await up.call('GET', '/healthz', { token: null })).toMatchObject({ status: 200, json: { status: 'ok' } });
    expect(await up.call('GET', '/readyz', { token: null })).toMatchObject({ status: 200, json: { status: 'ready' } });
    const down = setup({ reachable: false });
    expect(await down.call('GET', '/healthz', { token: null })).toMatchObject({ status: 503, json: { status: 'unavailable' } });
    expect(await down.call('GET', '/livez', { token: null })).toMatchObject({ status: 200 });
    const stopping = setup({ stopping: true });
    expect(await stopping.call('GET', '/readyz', { token: null })).toMatchObject({ status: 503, json: { status: 'stopping' } });
    const metrics = await up.app.request('/metrics');
    expect(await metrics.text()).toContain('webhooks_api_requests_total{method="GET",route="/healthz",status="200"} 1');
  });

  it('refuses a body over the limit with 413 whether its length is declared or only known as it streams, and calls no service', async () => {
    const { app, calls } = setup();
    const events = JSON.stringify([{ type: 'a', data: { blob: 'x'.repeat(MAX_REQUEST_BYTES) } }]);
    const headers = { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' };
    const declared = await app.request('/v1/partners/acme/events', { method: 'POST', headers: { ...headers, 'content-length': String(Buffer.byteLength(events)) }, body: events });
    expect(declared.status).toBe(413);
    expect(declared.headers.get('content-type')).toBe('application/problem+json');
    const chunks = [events.slice(0, 1000), events.slice(1000)];
    const streamed = await app.request('/v1/partners/acme/events', {
      method: 'POST',
      headers,
      body: new ReadableStream({
        pull(controller) {
          const chunk = chunks.shift();
          if (chunk === undefined) controller.close();
          else controller.enqueue(new TextEncoder().encode(chunk));
        },
      }),
      duplex: 'half',
    } as RequestInit);
    expect(streamed.status).toBe(413);
    const small = await app.request('/v1/partners/acme/events', { method: 'POST', headers: { ...headers, 'content-length': '31' }, body: '{"type":"a","data":{"n":1}}    ' });
    expect(small.status).toBe(202);
    expect(calls).toEqual(['publish acme a']);
  });

  it('renders an unknown route as a 404 problem and a failing service as a 500 problem without its message', async () => {
    const { call, services } = setup();
    expect(await call('GET', '/v1/nothing-here')).toMatchObject({ status: 404, type: 'application/problem+json' });
    services.subscriptions.list = async () => {
      throw new Error('secret internals');
    };
    const failed = await call('GET', '/v1/partners/acme/subscriptions');
    expect(failed).toMatchObject({ status: 500, type: 'application/problem+json', json: { detail: 'the request failed; see the API log' } });
  });
});
