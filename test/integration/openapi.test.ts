import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { createApp } from '../../api/app';
import { root } from '../../harness/processes';
import { HARNESS_TOKEN } from '../../harness/token';
import { useServerSuite, type ServerSuite } from '../support/suite';
import { eventually } from '../../harness/temporal';

/**
 * The OpenAPI document is the API's own: every route is documented and every documented operation
 * is a route; a real validator (Redocly's CLI) accepts the document; and every operation, called on
 * a real Temporal server, answers only statuses the document lists, with bodies its schemas accept.
 */

const addFormats = (addFormatsModule as unknown as { default: typeof addFormatsModule }).default ?? addFormatsModule;
const PRODUCER = 'producer-token-0123456789abcdef';

interface DocResponse {
  description: string;
  content?: Record<string, { schema: Record<string, unknown> }>;
}
interface DocOperation {
  operationId: string;
  responses: Record<string, DocResponse>;
}
interface Document {
  paths: Record<string, Record<string, DocOperation>>;
  components: Record<string, unknown>;
}

describe('the OpenAPI document', () => {
  let s: ServerSuite;
  useServerSuite({ DELIVERY_BACKOFF_SCALE: '0.00001' }, (suite) => (s = suite));

  const appFor = () => createApp({ client: s.env.client, config: s.config, tokens: [{ role: 'admin', token: HARNESS_TOKEN }, { role: 'producer', token: PRODUCER }] });

  async function documentOf(app: ReturnType<typeof appFor>): Promise<Document> {
    const response = await app.request('/openapi.json');
    expect(response.status).toBe(200);
    return (await response.json()) as Document;
  }

  it('documents every route of the API, and nothing that is not one', async () => {
    const app = appFor();
    const doc = await documentOf(app);
    const documented = Object.entries(doc.paths).flatMap(([path, methods]) => Object.keys(methods).map((method) => `${method.toUpperCase()} ${path.replace(/\{(\w+)\}/g, ':$1')}`));
    // Depo's pages, the metrics scrape and the reference page are not part of the JSON API.
    const routes = app.routes
      .filter((route) => route.method !== 'ALL' && !/^\/(portal|metrics|reference)(\/|$)/.test(route.path))
      .map((route) => `${route.method} ${route.path.replace(/\/$/, '')}`);
    expect(new Set(routes)).toEqual(new Set(documented));
    expect(documented.length).toBeGreaterThanOrEqual(19);
    const page = await app.request('/reference');
    expect(page.status).toBe(200);
    const html = await page.text();
    for (const [path, methods] of Object.entries(doc.paths)) {
      for (const op of Object.values(methods)) expect(html).toContain(`id="${op.operationId}"`);
      expect(html).toContain(path);
    }
  });

  it("passes Redocly's CLI lint without errors", async () => {
    const dir = mkdtempSync(join(tmpdir(), 'openapi-'));
    try {
      const file = join(dir, 'openapi.json');
      writeFileSync(file, JSON.stringify(await documentOf(appFor())));
      const { stdout, stderr } = await promisify(execFile)(join(root, 'node_modules/.bin/redocly'), ['lint', file], {
        env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
      });
      expect(`${stdout}${stderr}`).toContain('Your API description is valid');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('every operation answers only documented statuses, with bodies the document describes', async () => {
    const app = appFor();
    const doc = await documentOf(app);
    const ajv = new Ajv2020({ strict: false, allErrors: true });
    addFormats(ajv);
    const operations = new Map(Object.values(doc.paths).flatMap((methods) => Object.values(methods).map((op) => [op.operationId, op] as const)));
    const exercised = new Set<string>();

    /** Calls the app, then checks the answer against the operation's documented responses. */
    async function call(operationId: string, method: string, path: string, { body, token = HARNESS_TOKEN }: { body?: unknown; token?: string | null } = {}) {
      const headers: Record<string, string> = {};
      if (token) headers.authorization = `Bearer ${token}`;
      if (body !== undefined) headers['content-type'] = 'application/json';
      const response = await app.request(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      const text = await response.text();
      const op = operations.get(operationId);
      expect(op, operationId).toBeDefined();
      const documented = op!.responses[String(response.status)];
      expect(documented, `${operationId} answered ${response.status}: ${text}`).toBeDefined();
      const json = text ? (JSON.parse(text) as Record<string, unknown>) : undefined;
      const [type, media] = Object.entries(documented!.content ?? {})[0] ?? [];
      if (!type) expect(text, `${operationId} ${response.status} has no documented body`).toBe('');
      else {
        expect(response.headers.get('content-type')).toContain(type);
        const validate = ajv.compile({ ...media!.schema, components: doc.components });
        expect(validate(json), `${operationId} ${response.status}: ${JSON.stringify(validate.errors)} in ${text}`).toBe(true);
      }
      exercised.add(operationId);
      return { status: response.status, json };
    }

    expect((await call('health', 'GET', '/healthz', { token: null })).status).toBe(200);
    expect((await call('liveness', 'GET', '/livez', { token: null })).status).toBe(200);
    expect((await call('readiness', 'GET', '/readyz', { token: null })).status).toBe(200);
    expect((await call('openapi', 'GET', '/openapi.json', { token: null })).status).toBe(200);

    const schema = { type: 'object', properties: { n: { type: 'integer' } }, required: ['n'] };
    expect((await call('createEventType', 'POST', '/v1/event-types', { body: { name: 'doc.checked', description: 'Checked', schema, example: { n: 1 } } })).status).toBe(201);
    expect((await call('createEventType', 'POST', '/v1/event-types', { body: { name: 'doc.checked' } })).status).toBe(409);
    expect((await call('createEventType', 'POST', '/v1/event-types', { body: { name: 'doc.bad', schema: { type: 1 } } })).status).toBe(400);
    expect((await call('createEventType', 'POST', '/v1/event-types', { body: { name: 'doc.x' }, token: PRODUCER })).status).toBe(403);
    expect((await call('getEventType', 'GET', '/v1/event-types/doc.checked')).status).toBe(200);
    expect((await call('getEventType', 'GET', '/v1/event-types/doc.none')).status).toBe(404);
    expect((await call('updateEventType', 'PATCH', '/v1/event-types/doc.checked', { body: { description: 'Checked again' } })).status).toBe(200);
    expect((await call('listEventTypes', 'GET', '/v1/event-types')).status).toBe(200);

    const url = s.receiver.url('/doc');
    expect((await call('createSubscription', 'POST', '/v1/partners/doc/subscriptions', { body: { url, eventTypes: [] } })).status).toBe(400);
    expect((await call('createSubscription', 'POST', '/v1/partners/doc/subscriptions', { body: { url, eventTypes: ['doc.checked'] }, token: null })).status).toBe(401);
    const created = await call('createSubscription', 'POST', '/v1/partners/doc/subscriptions', { body: { url, eventTypes: ['doc.checked'], batching: { windowMs: 1_000, maxEvents: 10 } } });
    expect(created.status).toBe(201);
    const id = created.json!.id as string;
    expect((await call('getSubscription', 'GET', `/v1/partners/doc/subscriptions/${id}`)).status).toBe(200);
    expect((await call('rotateSigningSecret', 'POST', `/v1/partners/doc/subscriptions/${id}/rotate-secret`)).status).toBe(200);
    expect((await call('updateSubscription', 'PATCH', `/v1/partners/doc/subscriptions/${id}`, { body: { batching: { maxEvents: 20 } } })).status).toBe(200);
    await eventually(async () => ((await call('listSubscriptions', 'GET', '/v1/partners/doc/subscriptions')).json!.subscriptions as unknown[]).length === 1 || undefined, 10_000, 'the listing');

    expect((await call('publishEvents', 'POST', '/v1/partners/doc/events', { body: { type: 'doc.checked', data: { n: 'one' } }, token: PRODUCER })).status).toBe(400);
    expect((await call('publishEvents', 'POST', '/v1/partners/doc/events', { body: [{ type: 'doc.checked', data: { n: 1 } }], token: PRODUCER })).status).toBe(202);
    const batches = await eventually(async () => {
      const listed = (await call('listBatches', 'GET', `/v1/partners/doc/subscriptions/${id}/batches?status=delivered`)).json!.batches as { batchId: string }[];
      return listed.length > 0 ? listed : undefined;
    }, 30_000, 'a delivered batch');
    expect((await call('listBatches', 'GET', `/v1/partners/doc/subscriptions/${id}/batches?status=lost`)).status).toBe(400);
    expect((await call('getBatch', 'GET', `/v1/batches/${batches[0]!.batchId}`)).status).toBe(200);
    expect((await call('getBatch', 'GET', '/v1/batches/not-a-uuid')).status).toBe(400);
    expect((await call('redeliverBatch', 'POST', `/v1/batches/${batches[0]!.batchId}/redeliver`)).status).toBe(409);

    expect((await call('getRecovery', 'GET', `/v1/partners/doc/subscriptions/${id}/recover`)).status).toBe(404);
    expect((await call('recoverFailedBatches', 'POST', `/v1/partners/doc/subscriptions/${id}/recover`, { body: { since: 'yesterday' } })).status).toBe(400);
    expect((await call('recoverFailedBatches', 'POST', `/v1/partners/doc/subscriptions/${id}/recover`, { body: { since: new Date(Date.now() - 3_600_000).toISOString() } })).status).toBe(202);
    await eventually(async () => ((await call('getRecovery', 'GET', `/v1/partners/doc/subscriptions/${id}/recover`)).json!.status === 'done' ? true : undefined), 20_000, 'the recovery');
    expect((await call('createPortalLink', 'POST', '/v1/partners/doc/portal-links')).status).toBe(201);
    expect((await call('archiveEventType', 'POST', '/v1/event-types/doc.checked/archive')).status).toBe(200);
    expect((await call('deleteSubscription', 'DELETE', `/v1/partners/doc/subscriptions/${id}`)).status).toBe(204);
    expect((await call('getSubscription', 'GET', `/v1/partners/doc/subscriptions/${id}`)).status).toBe(404);

    expect([...exercised].sort()).toEqual([...operations.keys()].sort());
  });
});
