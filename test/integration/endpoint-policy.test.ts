import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Resolver } from '../../platform/endpoint-resolver';
import { apiFor } from '../../harness/api';
import { createApp } from '../../api/app';
import { createTestWorker, testConfig } from '../../harness/in-process';
import { Receiver } from '../../harness/receiver';
import { eventually, startDevServer } from '../../harness/temporal';
import { HARNESS_TOKEN } from '../../harness/token';

/**
 * The endpoint policy where it matters most: at every attempt, against the address actually
 * connected. DNS answers come from test resolvers, so that a name can "rebind" to loopback.
 */
const answers = (table: Record<string, string[]>): Resolver => (hostname, _options, callback) => {
  const found = table[hostname];
  if (!found) return callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), []);
  callback(null, found.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })));
};

describe('the endpoint policy on a real Temporal server', () => {
  let env: TestWorkflowEnvironment;
  let receiver: Receiver;

  beforeAll(async () => {
    env = await startDevServer();
    receiver = await Receiver.start();
  });

  afterAll(async () => {
    await receiver?.close();
    await env?.teardown();
  });

  const strict = { WEBHOOK_ALLOW_HTTP: 'true', WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'false', DELIVERY_BACKOFF_SCALE: '0.00001' };

  it('refuses to save a url whose host resolves to a private address, for IPv4 and IPv6', async () => {
    const config = testConfig(strict);
    const app = createApp({
      client: env.client,
      config,
      tokens: [{ role: 'admin', token: HARNESS_TOKEN }],
      resolver: answers({ 'internal.example': ['10.1.2.3'], 'v6.example': ['fd12::1'], 'metadata.example': ['169.254.169.254'] }),
    });
    for (const host of ['internal.example', 'v6.example', 'metadata.example', '127.0.0.1', '[::1]']) {
      const response = await app.request('/v1/partners/p/subscriptions', {
        method: 'POST',
        headers: { authorization: `Bearer ${HARNESS_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ url: `http://${host}/hook`, eventTypes: ['t'] }),
      });
      expect(response.status, host).toBe(400);
      expect(((await response.json()) as { detail: string }).detail).toMatch(/private|loopback|reserved/);
    }
  });

  it('refuses, at the attempt, a host that resolved to a public address when saved and to loopback when connecting', async () => {
    const config = testConfig(strict);
    // Saved while the name pointed at a public address; by the time of delivery it points at loopback.
    const app = createApp({ client: env.client, config, tokens: [{ role: 'admin', token: HARNESS_TOKEN }], resolver: answers({ 'rebind.example': ['203.0.113.10'] }) });
    const worker = await createTestWorker(env, config, { resolver: answers({ 'rebind.example': ['127.0.0.1', '::1'] }) });
    await worker.runUntil(async () => {
      const headers = { authorization: `Bearer ${HARNESS_TOKEN}`, 'content-type': 'application/json' };
      const { port } = new URL(receiver.url()).port ? { port: new URL(receiver.url()).port } : { port: '80' };
      const created = await app.request('/v1/partners/rebind/subscriptions', {
        method: 'POST',
        headers,
        body: JSON.stringify({ url: `http://rebind.example:${port}/hook`, eventTypes: ['t'], batching: { maxEvents: 1 } }),
      });
      expect(created.status).toBe(201);
      const { id } = (await created.json()) as { id: string };
      await app.request('/v1/partners/rebind/events', { method: 'POST', headers, body: JSON.stringify({ type: 't', data: {} }) });
      const api = apiFor(env.client, config);
      const batch = await eventually(async () => {
        const listed = await api('GET', `/v1/partners/rebind/subscriptions/${id}/batches`);
        const batchId = listed.json.batches[0]?.batchId as string | undefined;
        if (!batchId) return undefined;
        const found = await api('GET', `/v1/batches/${batchId}`);
        return found.json.attempts >= 2 ? found.json : undefined;
      });
      expect(batch.lastError).toMatch(/EPRIVATEADDRESS.*127\.0\.0\.1, ::1/);
      expect(receiver.requests).toHaveLength(0);
    });
  });

  it('refuses, at the attempt, a private address saved under a looser policy', async () => {
    const loose = testConfig({ WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true', DELIVERY_BACKOFF_SCALE: '0.00001' });
    const strictWorkerConfig = { ...loose, delivery: { ...loose.delivery, allowPrivateNetworks: false } };
    const api = apiFor(env.client, loose);
    const worker = await createTestWorker(env, strictWorkerConfig);
    await worker.runUntil(async () => {
      const created = await api('POST', '/v1/partners/loose/subscriptions', { url: receiver.url('/loose'), eventTypes: ['t'], batching: { maxEvents: 1 } });
      expect(created.status).toBe(201);
      await api('POST', '/v1/partners/loose/events', { type: 't', data: {} });
      const batch = await eventually(async () => {
        const listed = await api('GET', `/v1/partners/loose/subscriptions/${created.json.id}/batches`);
        const batchId = listed.json.batches[0]?.batchId as string | undefined;
        const found = batchId ? await api('GET', `/v1/batches/${batchId}`) : undefined;
        return found && found.json.attempts >= 1 && found.json.lastError ? found.json : undefined;
      });
      expect(batch.lastError).toMatch(/EENDPOINTPOLICY/);
      expect(receiver.requests.filter((r) => r.path === '/loose')).toHaveLength(0);
    });
  });
});
