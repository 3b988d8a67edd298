import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../api/app';
import type { Config } from '../../platform/config';
import type { BatchPayload } from '../../domain/payload';
import { createTestWorker, testConfig } from '../../harness/in-process';
import { Receiver } from '../../harness/receiver';
import { eventually, startDevServer } from '../../harness/temporal';

/**
 * Thousands of malformed bodies, headers and paths at the real API over a real Temporal server:
 * never a 500, every error a problem+json, nothing accepted that should not be, nothing lost that was.
 */
const ADMIN = 'admin-token-0123456789abcdef';
const PRODUCER = 'producer-token-0123456789ab';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe('hostile input against the real API', () => {
  let env: TestWorkflowEnvironment;
  let config: Config;
  let worker: Worker;
  let running: Promise<void>;
  let receiver: Receiver;
  let app: ReturnType<typeof createApp>;
  let subscriptionId: string;

  beforeAll(async () => {
    env = await startDevServer();
    config = testConfig({ INGEST_SIGNAL_INTERVAL_MS: '5' });
    worker = await createTestWorker(env, config);
    running = worker.run();
    receiver = await Receiver.start();
    app = createApp({ client: env.client, config, tokens: [{ role: 'admin', token: ADMIN }, { role: 'producer', token: PRODUCER }] });
    const created = await app.request('/v1/partners/fuzz/subscriptions', {
      method: 'POST',
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ url: receiver.url('/fuzz'), eventTypes: ['a', 'b.c'], batching: { windowMs: 1_000, maxEvents: 100 } }),
    });
    subscriptionId = ((await created.json()) as { id: string }).id;
  });

  afterAll(async () => {
    worker?.shutdown();
    await running;
    await receiver?.close();
    await env?.teardown();
  });

  async function expectProblem(response: Response) {
    expect(response.status).toBeGreaterThanOrEqual(400);
    expect(response.status).toBeLessThan(500);
    expect(response.headers.get('content-type')).toBe('application/problem+json');
    const problem = (await response.json()) as { type: string; title: string; status: number; detail: string };
    expect(problem.status).toBe(response.status);
    expect(typeof problem.title).toBe('string');
    expect(typeof problem.detail).toBe('string');
  }

  it('lets a producer token post events and nothing else', async () => {
    const headers = { authorization: `Bearer ${PRODUCER}`, 'content-type': 'application/json' };
    const posted = await app.request('/v1/partners/fuzz/events', { method: 'POST', headers, body: JSON.stringify({ type: 'zzz', data: {} }) });
    expect(posted.status).toBe(202);
    for (const [method, path] of [
      ['GET', '/v1/partners/fuzz/subscriptions'],
      ['POST', '/v1/partners/fuzz/subscriptions'],
      ['DELETE', `/v1/partners/fuzz/subscriptions/${subscriptionId}`],
      ['GET', `/v1/batches/${subscriptionId}`],
      ['POST', `/v1/batches/${subscriptionId}/redeliver`],
    ] as const) {
      const refused = await app.request(path, { method, headers, body: method === 'POST' ? '{}' : undefined });
      expect(refused.status, `${method} ${path}`).toBe(403);
      await expectProblem(refused);
    }
    await expectProblem(await app.request('/v1/partners/fuzz/events', { method: 'POST', headers: { authorization: 'Bearer wrong-token-0123456789' } }));
  });

  it('answers thousands of malformed requests with a 4xx problem, never a 500, and loses nothing it accepted', async () => {
    const accepted = new Set<string>();
    let routed = 0;
    const validEvent = fc.record({ type: fc.constantFrom('a', 'b.c', 'other'), data: fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 4 }) });
    const body = fc.oneof(
      fc.jsonValue().map((v) => JSON.stringify(v)),
      fc.string(),
      fc.array(validEvent, { minLength: 1, maxLength: 5 }).map((v) => JSON.stringify(v)),
      validEvent.map((e) => JSON.stringify(e)),
      fc.record({ type: fc.string(), data: fc.anything(), id: fc.string(), createdAt: fc.string(), extra: fc.anything() }, { requiredKeys: [] }).map((v) => JSON.stringify(v)),
      fc.constant('{"type":"a","data":{"__proto__":{"polluted":true}}}'),
      fc.constant('{"type":"a","data":{"constructor":{"prototype":{"polluted":true}}}}'),
    );
    const path = fc.oneof(
      fc.constant('/v1/partners/fuzz/events'),
      fc.constantFrom('/v1/partners/fuzz/subscriptions', `/v1/partners/fuzz/subscriptions/${subscriptionId}`, '/v1/batches/x', '/v1/partners/../events'),
      fc.webPath().map((p) => `/v1${p}`),
      fc.string().map((s) => `/v1/partners/${encodeURIComponent(s)}/events`),
      fc.string().map((s) => `/v1/partners/fuzz/subscriptions/${encodeURIComponent(s)}`),
    );
    const anyRequest = fc.record({
      method: fc.constantFrom('GET', 'POST', 'PATCH', 'DELETE', 'PUT'),
      path,
      body,
      contentType: fc.constantFrom('application/json', 'text/plain', 'application/json; charset=utf-8', ''),
      auth: fc.constantFrom(`Bearer ${ADMIN}`, `Bearer ${PRODUCER}`, 'Bearer nope', '', `Basic ${ADMIN}`, `Bearer ${ADMIN} extra`),
    });
    // Half of them properly addressed and authorised event posts, so the bodies get past the door.
    const eventPost = fc.record({
      method: fc.constant('POST'),
      path: fc.constant('/v1/partners/fuzz/events'),
      body,
      contentType: fc.constant('application/json'),
      auth: fc.constantFrom(`Bearer ${ADMIN}`, `Bearer ${PRODUCER}`),
    });
    const request = fc.oneof(anyRequest, eventPost);

    const check = async ({ method, path: url, body: text, contentType, auth }: { method: string; path: string; body: string; contentType: string; auth: string }) => {
      const headers: Record<string, string> = {};
      if (contentType) headers['content-type'] = contentType;
      if (auth) headers.authorization = auth;
      const response = await app.request(url, { method, headers, body: method === 'GET' || method === 'DELETE' ? undefined : text });
      expect(response.status).not.toBe(500);
      if (response.status >= 400) return expectProblem(response);
      if (method === 'POST' && url === '/v1/partners/fuzz/events') {
        expect(response.status).toBe(202);
        const answer = (await response.json()) as { events: { id: string; subscriptions: number }[] };
        const sent = JSON.parse(text) as unknown;
        expect(answer.events).toHaveLength(Array.isArray(sent) ? sent.length : 1);
        for (const event of answer.events) {
          expect(event.id).toMatch(UUID);
          accepted.add(event.id);
          routed += event.subscriptions;
        }
      }
    };
    // The prototype-pollution bodies once each, before the fuzz: a fuzzed DELETE or PATCH may stop
    // the subscription taking events at any point of the run, even before the fuzz routes one.
    for (const text of ['{"type":"a","data":{"__proto__":{"polluted":true}}}', '{"type":"a","data":{"constructor":{"prototype":{"polluted":true}}}}']) {
      await check({ method: 'POST', path: '/v1/partners/fuzz/events', body: text, contentType: 'application/json', auth: `Bearer ${PRODUCER}` });
    }
    expect(routed).toBe(2);
    await fc.assert(fc.asyncProperty(request, check), { numRuns: 3_000 });

    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.keys(Object.prototype)).toEqual([]);
    console.log(`fuzz: ${accepted.size} events accepted, ${routed} routed to the subscription`);
    // Nothing lost: every event routed to the subscription reaches the receiver.
    const delivered = await eventually(() => {
      const events = receiver.requests.flatMap((r) => (JSON.parse(r.body) as BatchPayload).events);
      return events.length >= routed ? events : undefined;
    }, 30_000);
    expect(delivered).toHaveLength(routed);
    // A `__proto__` key in data is delivered as sent, an ordinary key, polluting nothing.
    const withProtoKey = delivered.filter((e) => Object.prototype.hasOwnProperty.call(e.data, '__proto__'));
    expect(withProtoKey.length).toBeGreaterThan(0);
    for (const event of withProtoKey) expect(JSON.stringify(event.data)).toBe('{"__proto__":{"polluted":true}}');
  });
});
