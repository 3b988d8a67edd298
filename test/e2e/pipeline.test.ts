import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:net';
import { promisify } from 'node:util';
import { Client, Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tokenFingerprint } from '../../codec/app';
import { newKeyEntry } from '../../codec/key-ring';
import { temporalConnection } from '../../platform/temporal-connection';
import { batchWorkflowId, subscriptionWorkflowId } from '../../workflows/ids';
import type { Receiver } from '../../harness/receiver';
import { freePort, startProjectProcess, waitForOutput } from '../../harness/processes';
import { holdsInClear } from '../../harness/cluster';
import { startStack, type Stack, type StackProcess, type TemporalKind } from '../../harness/stack';
import { eventually, temporalCliPath } from '../../harness/temporal';

/** Listens on `port` on loopback; answers undefined when something else holds it already (which serves as well). */
function holdPort(port: number): Promise<Server | undefined> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(undefined));
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

/**
 * The whole pipeline with every part real: a Temporal server (the dev server from the installed
 * binary, then a cluster as `npm run cluster` runs it, reached over mTLS), the worker and API
 * processes started from their entry points, and a local receiver over HTTP. Payload encryption
 * is on, as `npm run dev`, `npm run cluster` and the compose stack run it, with a codec server.
 */
const backends: { name: string; temporal: TemporalKind; store: string }[] = [
  { name: 'the dev server', temporal: 'dev', store: 'its SQLite file (with its write-ahead log)' },
  { name: 'a Temporal cluster (PostgreSQL, four services, mTLS)', temporal: 'cluster', store: 'its PostgreSQL database (pg_dump)' },
];

describe.each(backends)('end to end on $name: API → Temporal → worker → receiver', (backend) => {
  const token = `e2e-${randomUUID()}`;
  const producerToken = `producer-${randomUUID()}`;
  let stack: Stack;
  let worker: StackProcess;
  let api: StackProcess;
  let receiver: Receiver;
  let baseUrl: string;
  let processEnv: Record<string, string>;
  let workerMetricsPort: number;
  let codecServer: StackProcess;
  let codecUrl: string;
  let neighbour: Server | undefined;
  const operatorToken = `operator-${randomUUID()}`;
  const payloadKey = newKeyEntry('e2e-key');

  const call = async (method: string, path: string, body?: unknown, auth = true) => {
    const response = await fetch(`${baseUrl}${path}`, {
      method,
      headers: {
        ...(auth ? { authorization: `Bearer ${token}` } : {}),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    return { status: response.status, contentType: response.headers.get('content-type'), json: text ? (JSON.parse(text) as Record<string, any>) : undefined };
  };

  beforeAll(async () => {
    workerMetricsPort = await freePort();
    // Something holds the port beside the worker's, as an outgoing connection's local port can:
    // the worker must start and serve the SDK's metrics all the same.
    neighbour = await holdPort(workerMetricsPort + 1);
    stack = await startStack({
      temporal: backend.temporal,
      env: {
        TEMPORAL_TASK_QUEUE: `e2e-${randomUUID()}`,
        API_HOST: '127.0.0.1',
        API_TOKEN: token,
        API_TOKENS: `producer:${producerToken}`,
        DELIVERY_BACKOFF_SCALE: '0.0001',
        WORKER_METRICS_PORT: String(workerMetricsPort),
        PAYLOAD_KEYS: payloadKey,
        PAYLOAD_ENCRYPTION: 'required',
      },
      codec: { env: { CODEC_TOKENS: operatorToken } },
    });
    ({ receiver, env: processEnv, apiUrl: baseUrl } = stack);
    worker = stack.workers[0]!;
    api = stack.apis[0]!;
    codecServer = stack.codec!;
    codecUrl = stack.codec!.url;
  });

  afterAll(async () => {
    await stack?.stop();
    await new Promise((resolve) => (neighbour ? neighbour.close(resolve) : resolve(undefined)));
  });

  it('delivers posted events to the subscribed endpoint as one batch, exactly as the contract shapes it', async () => {
    const partnerId = 'acme_e2e-1';
    const created = await call('POST', `/v1/partners/${partnerId}/subscriptions`, {
      url: receiver.url('/acme'),
      eventTypes: ['user.created', 'user.updated'],
      batching: { windowMs: 1_000, maxEvents: 3 },
    });
    expect(created.status).toBe(201);
    expect(created.json).toMatchObject({ partnerId, eventTypes: ['user.created', 'user.updated'], batching: { windowMs: 1_000, maxEvents: 3 } });
    const subscriptionId = created.json!.id as string;

    const explicitId = randomUUID();
    const posted = await call('POST', `/v1/partners/${partnerId}/events`, [
      { type: 'user.created', data: { userId: 'u1' }, id: explicitId, createdAt: '2024-03-21T10:00:00Z' },
      { type: 'user.signed_in', data: { userId: 'u1' } },
      { type: 'user.updated', data: { userId: 'u1', name: 'Zoë' } },
    ]);
    expect(posted.status).toBe(202);
    const accepted = posted.json!.events as { id: string; subscriptions: number }[];
    expect(accepted.map((e) => e.subscriptions)).toEqual([1, 0, 1]);
    expect(accepted[0]!.id).toBe(explicitId);

    const request = await eventually(() => receiver.requests.find((r) => r.path === '/acme'), 20_000, 'the batch');
    expect(request.method).toBe('POST');
    expect(request.headers['content-type']).toBe('application/json');
    const body = JSON.parse(request.body) as Record<string, any>;
    expect(Object.keys(body)).toEqual(['batch_id', 'timestamp', 'count', 'events']);
    expect(body.batch_id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(body.timestamp).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    expect(body.count).toBe(2);
    expect(body.events).toHaveLength(2);
    expect(body.events[0]).toEqual({ id: explicitId, createdAt: '2024-03-21T10:00:00.000Z', type: 'user.created', data: { userId: 'u1' } });
    expect(Object.keys(body.events[1])).toEqual(['id', 'createdAt', 'type', 'data']);
    expect(body.events[1]).toMatchObject({ id: accepted[2]!.id, type: 'user.updated', data: { userId: 'u1', name: 'Zoë' } });

    const batch = await eventually(async () => {
      const found = await call('GET', `/v1/batches/${body.batch_id}`);
      return found.json?.status === 'delivered' ? found : undefined;
    });
    expect(batch.json).toMatchObject({ batchId: body.batch_id, partnerId, subscriptionId, attempts: 1, payload: body });
    const listed = await call('GET', `/v1/partners/${partnerId}/subscriptions/${subscriptionId}/batches?status=delivered`);
    expect((listed.json!.batches as { batchId: string }[]).map((b) => b.batchId)).toContain(body.batch_id);
  });

  it('cuts pending events into a last batch when a subscription is deleted, then forgets it', async () => {
    const partnerId = 'acme-delete';
    const created = await call('POST', `/v1/partners/${partnerId}/subscriptions`, {
      url: receiver.url('/delete'),
      eventTypes: ['order.paid'],
      batching: { windowMs: 60_000 },
    });
    const id = created.json!.id as string;
    await call('POST', `/v1/partners/${partnerId}/events`, { type: 'order.paid', data: { orderId: 7 } });
    expect((await call('GET', `/v1/partners/${partnerId}/subscriptions/${id}`)).json).toMatchObject({ pendingEvents: 1 });

    expect((await call('DELETE', `/v1/partners/${partnerId}/subscriptions/${id}`)).status).toBe(204);
    const request = await eventually(() => receiver.requests.find((r) => r.path === '/delete'), 20_000, 'the last batch');
    expect((JSON.parse(request.body) as { count: number }).count).toBe(1);
    expect((await call('GET', `/v1/partners/${partnerId}/subscriptions/${id}`)).status).toBe(404);
    const after = await call('POST', `/v1/partners/${partnerId}/events`, { type: 'order.paid', data: {} });
    expect(after.json!.events).toEqual([{ id: expect.any(String), subscriptions: 0 }]);
  });

  it('answers bad input and missing credentials with problem+json and records nothing', async () => {
    const noToken = await call('GET', '/v1/partners/acme/subscriptions', undefined, false);
    expect(noToken.status).toBe(401);
    expect(noToken.contentType).toBe('application/problem+json');

    const badBounds = await call('POST', '/v1/partners/acme/subscriptions', {
      url: receiver.url('/never'),
      eventTypes: ['a'],
      batching: { windowMs: 999, maxEvents: 101 },
    });
    expect(badBounds.status).toBe(400);
    expect(badBounds.contentType).toBe('application/problem+json');
    expect(badBounds.json).toMatchObject({ status: 400, title: 'Bad Request' });
    expect((badBounds.json!.errors as { path: string }[]).map((e) => e.path).sort()).toEqual([
      'body.batching.maxEvents',
      'body.batching.windowMs',
    ]);

    const badPartner = await call('GET', '/v1/partners/no%20spaces/subscriptions');
    expect(badPartner.status).toBe(400);
    expect((await call('GET', `/v1/batches/${randomUUID()}`)).status).toBe(404);
    expect((await call('GET', '/v1/partners/acme/subscriptions')).json).toEqual({ subscriptions: [] });
  });

  it('lets a producer token from API_TOKENS post events but not manage subscriptions, and logs no token', async () => {
    const asProducer = (method: string, path: string, body?: unknown) =>
      fetch(`${baseUrl}${path}`, {
        method,
        headers: { authorization: `Bearer ${producerToken}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    expect((await asProducer('POST', '/v1/partners/acme/events', { type: 'x', data: {} })).status).toBe(202);
    const refused = await asProducer('GET', '/v1/partners/acme/subscriptions');
    expect(refused.status).toBe(403);
    expect(refused.headers.get('content-type')).toBe('application/problem+json');
    for (const output of [api.output(), worker.output()]) {
      expect(output).not.toContain(token);
      expect(output).not.toContain(producerToken);
    }
  });

  it('serves metrics, probes and JSON logs from the API and the worker', async () => {
    expect((await fetch(`${baseUrl}/livez`)).status).toBe(200);
    expect((await fetch(`${baseUrl}/readyz`)).status).toBe(200);
    const apiMetrics = await (await fetch(`${baseUrl}/metrics`)).text();
    expect(apiMetrics).toMatch(/^webhooks_events_accepted_total [1-9]/m);
    expect(apiMetrics).toMatch(/^webhooks_signals_total [1-9]/m);
    expect(apiMetrics).toContain('webhooks_api_request_duration_seconds_bucket');
    expect(apiMetrics).toMatch(/^webhooks_batches\{status="pending"\} \d+/m);
    expect(apiMetrics).toMatch(/^webhooks_batches\{status="failed"\} 0/m);

    const workerUrl = `http://127.0.0.1:${workerMetricsPort}`;
    expect((await fetch(`${workerUrl}/readyz`)).status).toBe(200);
    const workerMetrics = await (await fetch(`${workerUrl}/metrics`)).text();
    expect(workerMetrics).toMatch(/^webhooks_delivery_attempts_total\{outcome="delivered",status_class="2xx"\} [1-9]/m);
    expect(workerMetrics).toContain('webhooks_delivery_attempt_duration_seconds_bucket');
    expect(workerMetrics).toMatch(/webhooks_batches_cut\{[^}]*reason="(count|window|delete)"/);
    expect(workerMetrics).toMatch(/temporal_\w+/);

    const logLines = worker.output().split('\n').filter((line) => line.startsWith('{'));
    const delivered = logLines.map((line) => JSON.parse(line) as Record<string, unknown>).find((entry) => entry.message === 'batch delivered');
    expect(delivered).toMatchObject({ level: 'info', partnerId: expect.any(String), subscriptionId: expect.any(String), batchId: expect.any(String) });
  });

  it('finishes in-flight requests on SIGTERM and loses none of the events it acknowledged', async () => {
    const port = await freePort();
    const stopping = startProjectProcess('api/main.ts', { ...processEnv, API_PORT: String(port) });
    const url = `http://127.0.0.1:${port}`;
    await eventually(async () => ((await fetch(`${url}/readyz`).catch(() => undefined))?.ok ? true : undefined), 30_000);
    const created = await call('POST', '/v1/partners/shutdown/subscriptions', { url: receiver.url('/shutdown'), eventTypes: ['t'], batching: { maxEvents: 100 } });
    expect(created.status).toBe(201);

    const answers = Array.from({ length: 50 }, (_, i) =>
      fetch(`${url}/v1/partners/shutdown/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ type: 't', data: { i } }),
      }).then(
        async (response) => ({ status: response.status, body: (await response.json()) as { events: { id: string }[] } }),
        (err: Error) => ({ status: 0, error: err }),
      ),
    );
    await new Promise((resolve) => setTimeout(resolve, 5));
    stopping.child.kill('SIGTERM');
    const settled = await Promise.all(answers);
    expect(await stopping.exited).toBe(0);

    // Every request either got its 202 or was never accepted; every acknowledged event is delivered.
    const acknowledged = settled.flatMap((a) => ('body' in a && a.status === 202 ? a.body.events.map((e) => e.id) : []));
    for (const answer of settled) expect([0, 202]).toContain(answer.status);
    expect(acknowledged.length).toBeGreaterThan(0);
    const delivered = await eventually(() => {
      const ids = receiver.requests.filter((r) => r.path === '/shutdown').flatMap((r) => (JSON.parse(r.body) as { events: { id: string }[] }).events.map((e) => e.id));
      return acknowledged.every((id) => ids.includes(id)) ? ids : undefined;
    }, 60_000, 'every acknowledged event delivered');
    expect(new Set(delivered).size).toBe(delivered.length);
  });

  it('keeps event data, endpoint urls and memos encrypted at rest and in `temporal workflow show`; operators read them through the codec server', async () => {
    const dataMarker = `data-marker-${randomUUID()}`;
    const urlMarker = `url-marker-${randomUUID()}`;
    const partnerId = 'at-rest';
    const created = await call('POST', `/v1/partners/${partnerId}/subscriptions`, {
      url: receiver.url(`/at-rest?token=${urlMarker}`),
      eventTypes: ['secret.shared'],
      batching: { maxEvents: 1 },
    });
    expect(created.status).toBe(201);
    expect((await call('POST', `/v1/partners/${partnerId}/events`, { type: 'secret.shared', data: { note: dataMarker } })).status).toBe(202);
    const request = await eventually(() => receiver.requests.find((r) => r.path.startsWith('/at-rest')), 20_000, 'the batch');
    expect(request.path).toBe(`/at-rest?token=${urlMarker}`);
    const batchId = (JSON.parse(request.body) as { batch_id: string }).batch_id;
    // The API reads back what it and the worker wrote: the batch, its body and the subscription, in clear.
    const batch = await eventually(async () => {
      const found = await call('GET', `/v1/batches/${batchId}`);
      return found.json?.status === 'delivered' ? found.json : undefined;
    });
    expect(JSON.stringify(batch.payload)).toContain(dataMarker);
    expect((await call('GET', `/v1/partners/${partnerId}/subscriptions/${created.json!.id}`)).json!.url).toContain(urlMarker);

    // The control: a value written without the codec is found in the same store by the same search.
    const controlMarker = `control-marker-${randomUUID()}`;
    const { connection: options, namespace } = temporalConnection(stack.clientEnv);
    const connection = await Connection.connect(options);
    const control = await new Client({ connection, namespace }).workflow.start('nobodyRunsThis', {
      taskQueue: `nobody-polls-${randomUUID()}`,
      workflowId: `control-${randomUUID()}`,
      args: [controlMarker],
      memo: { control: controlMarker },
    });
    await control.terminate('control written');
    await connection.close();

    const atRest = stack.atRest();
    expect(holdsInClear(atRest, controlMarker), `the control marker in ${backend.store}`).toBe(true);
    expect(holdsInClear(atRest, dataMarker), `event data in ${backend.store}`).toBe(false);
    expect(holdsInClear(atRest, urlMarker), `the endpoint url in ${backend.store}`).toBe(false);

    const cli = promisify(execFile);
    const show = async (workflowId: string, codec: string[] = []) =>
      (await cli(temporalCliPath, ['workflow', 'show', '--workflow-id', workflowId, '--output', 'json', ...codec], { env: { PATH: process.env.PATH ?? '', ...stack.clientEnv }, maxBuffer: 64 * 2 ** 20 })).stdout;
    const workflows = [batchWorkflowId(batchId), subscriptionWorkflowId(partnerId, created.json!.id as string)];
    const plain = (await Promise.all(workflows.map((id) => show(id)))).join('\n');
    expect(plain).toContain(Buffer.from('binary/encrypted').toString('base64'));
    expect(holdsInClear(Buffer.from(plain), dataMarker)).toBe(false);
    expect(holdsInClear(Buffer.from(plain), urlMarker)).toBe(false);
    // The same command through the codec server, with an operator token, shows them.
    const decoded = await show(workflows[0]!, ['--codec-endpoint', codecUrl, '--codec-auth', `Bearer ${operatorToken}`]);
    expect(holdsInClear(Buffer.from(decoded), dataMarker)).toBe(true);
    expect(holdsInClear(Buffer.from(decoded), urlMarker)).toBe(true);
    // The codec server's audit trail names the operator by a fingerprint, never by the token.
    expect(codecServer.output()).toMatch(new RegExp(`"message":"codec: decode".*"operator":"${tokenFingerprint(operatorToken)}","via":"bearer"`));
    expect(codecServer.output()).not.toContain(operatorToken);
  });

  it('replays encrypted histories with the key, and names the missing key without it', async () => {
    const partnerId = 'replayed';
    const created = await call('POST', `/v1/partners/${partnerId}/subscriptions`, { url: receiver.url('/replayed'), eventTypes: ['t'], batching: { maxEvents: 1 } });
    await call('POST', `/v1/partners/${partnerId}/events`, { type: 't', data: { n: 1 } });
    await eventually(() => receiver.requests.find((r) => r.path === '/replayed'), 20_000, 'the batch');
    const workflowId = subscriptionWorkflowId(partnerId, created.json!.id as string);

    const replay = (env: Record<string, string>) => {
      const run = startProjectProcess('scripts/ops/replay.ts', env, [workflowId]);
      return run.exited.then((code) => ({ code, output: run.output() }));
    };
    const ok = await replay({ ...stack.clientEnv, PAYLOAD_KEYS: payloadKey });
    expect(ok.output).toContain(`ok        ${workflowId}`);
    expect(ok.code).toBe(0);
    const missing = await replay({ ...stack.clientEnv });
    expect(missing.code).toBe(1);
    expect(missing.output).toContain('encrypted with key e2e-key, and no payload keys are configured: set PAYLOAD_KEYS or PAYLOAD_KEYS_FILE');
  });

  it('names, at start, the search attributes its namespace lacks (an upgrade that added one)', async () => {
    expect(api.output()).not.toContain('lacks the search attributes');
    const { connection: options } = temporalConnection(stack.clientEnv);
    const connection = await Connection.connect(options);
    const bare = `bare-${randomUUID().slice(0, 8)}`;
    await connection.workflowService.registerNamespace({ namespace: bare, workflowExecutionRetentionPeriod: msToTs('1 day') });
    await connection.close();
    const started = startProjectProcess('api/main.ts', { ...processEnv, TEMPORAL_NAMESPACE: bare, API_PORT: String(await freePort()) });
    try {
      await waitForOutput(started, 'lacks the search attributes', 60_000, 'the API on a namespace without search attributes');
      expect(started.output()).toContain('WebhookRoutesChangedAt');
      expect(started.output()).toContain('scripts/ops/register-search-attributes.ts');
    } finally {
      await started.stop();
    }
  });

  it('refuses to start the API without API_TOKEN', async () => {
    const { API_TOKEN: _omitted, API_TOKENS: _also, ...withoutToken } = processEnv;
    const refused = startProjectProcess('api/main.ts', { ...withoutToken, API_PORT: String(await freePort()) });
    expect(await refused.exited).toBe(2);
    expect(refused.output()).toContain('API_TOKEN');
  });
});
