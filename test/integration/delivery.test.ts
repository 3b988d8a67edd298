import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { describe, expect, it } from 'vitest';
import { MAX_ATTEMPTS, retrySchedule } from '../../domain/schedule';
import { batchWorkflowId } from '../../workflows/ids';
import { apiFor } from '../../harness/api';
import { createTestWorker, testConfig } from '../../harness/in-process';
import type { Receiver } from '../../harness/receiver';
import { useServerSuite } from '../support/suite';
import { eventually } from '../../harness/temporal';

/**
 * Delivery as a partner and an operator see it, on a real dev server: retries on the schedule
 * (scaled down 100,000 times: 30 days become 26 s), failed batches, redelivery, a fixed endpoint.
 */
const SCALE = 0.00001;

describe('delivery on a real Temporal server', () => {
  let env: TestWorkflowEnvironment;
  let receiver: Receiver;
  let api: ReturnType<typeof apiFor>;

  useServerSuite({ DELIVERY_BACKOFF_SCALE: String(SCALE) }, (suite) => ({ env, receiver, api } = suite));

  const at = (path: string) => receiver.requests.filter((r) => r.path === path);

  async function subscribeAndPost(partnerId: string, path: string, maxEvents = 2) {
    const created = await api('POST', `/v1/partners/${partnerId}/subscriptions`, {
      url: receiver.url(path),
      eventTypes: ['invoice.paid'],
      batching: { windowMs: 60_000, maxEvents },
    });
    expect(created.status).toBe(201);
    const posted = await api('POST', `/v1/partners/${partnerId}/events`, [
      { type: 'invoice.paid', data: { invoice: 1 } },
      { type: 'invoice.paid', data: { invoice: 2 } },
    ]);
    expect(posted.status).toBe(202);
    const first = await eventually(() => at(path)[0], 20_000, `a request at ${path}`);
    return { subscriptionId: created.json.id as string, batchId: JSON.parse(first.body).batch_id as string };
  }

  it('fails every non-2xx answer and connection reset, follows no redirect, and sends the same bytes each time', async () => {
    const replies = [
      { status: 302, headers: { location: receiver.url('/elsewhere') } },
      { status: 404, body: 'no such hook' },
      'reset' as const,
      { status: 503, body: 'maintenance until noon' },
      200,
    ];
    receiver.responder = (_request, index) => replies[index] ?? 200;
    const { batchId } = await subscribeAndPost('retrying', '/flaky');

    const batch = await eventually(async () => {
      const found = await api('GET', `/v1/batches/${batchId}`);
      return found.json.status === 'delivered' ? found.json : undefined;
    });
    expect(batch.attempts).toBe(5);
    expect(at('/flaky')).toHaveLength(5);
    expect(at('/elsewhere')).toHaveLength(0);
    expect(new Set(at('/flaky').map((r) => r.sha256)).size).toBe(1);
    expect(at('/flaky').map((r) => r.headers['webhook-attempt'])).toEqual(['1', '2', '3', '4', '5']);
  });

  it('shows attempts and the last error of a pending batch, fails it after the 26th attempt, and redelivers the same bytes', async () => {
    receiver.responder = () => ({ status: 500, body: 'database on fire' });
    const { subscriptionId, batchId } = await subscribeAndPost('failing', '/down');

    const pending = await eventually(async () => {
      const found = await api('GET', `/v1/batches/${batchId}`);
      return found.json.status === 'pending' && found.json.attempts >= 2 ? found.json : undefined;
    });
    expect(pending.lastError).toMatch(/HTTP 500 from the endpoint: database on fire/);

    const failed = await eventually(
      async () => {
        const found = await api('GET', `/v1/batches/${batchId}`);
        return found.json.status === 'failed' ? found.json : undefined;
      },
      60_000,
      'the batch to fail',
    );
    expect(failed.attempts).toBe(MAX_ATTEMPTS);
    expect(failed.lastError).toMatch(/^attempt 26: HTTP 500 from the endpoint: database on fire/);
    const attempts = at('/down');
    expect(attempts).toHaveLength(MAX_ATTEMPTS);
    expect(new Set(attempts.map((r) => r.sha256)).size).toBe(1);

    // No retry comes before its wait has passed (the server never retries early).
    const schedule = retrySchedule(SCALE);
    for (let i = 1; i < attempts.length; i++) {
      expect(attempts[i]!.receivedAt - attempts[i - 1]!.receivedAt).toBeGreaterThanOrEqual(schedule[i]!.waitMs - 5);
    }

    const byStatus = async (status: string) =>
      (await api('GET', `/v1/partners/failing/subscriptions/${subscriptionId}/batches?status=${status}`)).json.batches.map(
        (b: { batchId: string }) => b.batchId,
      );
    expect(await byStatus('failed')).toEqual([batchId]);
    expect(await byStatus('delivered')).toEqual([]);
    expect((await api('GET', `/v1/partners/failing/subscriptions/${subscriptionId}/batches?status=lost`)).status).toBe(400);

    const firstRunId = (await env.client.workflow.getHandle(batchWorkflowId(batchId)).describe()).runId;
    receiver.responder = () => 200;
    expect((await api('POST', `/v1/batches/${batchId}/redeliver`)).status).toBe(202);
    const redelivered = await eventually(async () => {
      const found = await api('GET', `/v1/batches/${batchId}`);
      return found.json.status === 'delivered' ? found.json : undefined;
    });
    expect(redelivered.attempts).toBe(1);
    expect(at('/down')).toHaveLength(MAX_ATTEMPTS + 1);
    expect(at('/down')[MAX_ATTEMPTS]!.sha256).toBe(attempts[0]!.sha256);
    expect(await byStatus('delivered')).toEqual([batchId]);

    // The failed run's history stays readable; a delivered batch is not redelivered.
    const firstRun = env.client.workflow.getHandle(batchWorkflowId(batchId), firstRunId);
    expect((await firstRun.describe()).status.name).toBe('FAILED');
    expect((await firstRun.fetchHistory()).events!.length).toBeGreaterThan(3);
    const again = await api('POST', `/v1/batches/${batchId}/redeliver`);
    expect(again.status).toBe(409);
    expect(again.contentType).toBe('application/problem+json');
  });

  it('sends the retries of pending batches to a PATCHed url, so a fixed endpoint gets its backlog', async () => {
    receiver.responder = (request) => (request.path === '/fixed' ? 200 : 500);
    const { subscriptionId, batchId } = await subscribeAndPost('fixing', '/broken');
    const patched = await api('PATCH', `/v1/partners/fixing/subscriptions/${subscriptionId}`, { url: receiver.url('/fixed') });
    expect(patched.status).toBe(200);

    const delivered = await eventually(() => at('/fixed')[0], 20_000, 'the backlog at the fixed url');
    expect(JSON.parse(delivered.body).batch_id).toBe(batchId);
    expect(delivered.sha256).toBe(at('/broken')[0]!.sha256);
    const batch = await eventually(async () => {
      const found = await api('GET', `/v1/batches/${batchId}`);
      return found.json.status === 'delivered' ? found.json : undefined;
    });
    expect(batch.attempts).toBeLessThan(MAX_ATTEMPTS);
  });

  it("stops retrying a deleted subscription's batches", async () => {
    receiver.responder = () => 500;
    const { subscriptionId, batchId } = await subscribeAndPost('leaving', '/gone');
    expect((await api('DELETE', `/v1/partners/leaving/subscriptions/${subscriptionId}`)).status).toBe(204);

    const failed = await eventually(async () => {
      const found = await api('GET', `/v1/batches/${batchId}`);
      return found.json.status === 'failed' ? found.json : undefined;
    });
    expect(failed.lastError).toMatch(/subscription was deleted; retries stopped/);
    expect(failed.attempts).toBeLessThan(MAX_ATTEMPTS);
    expect(at('/gone').length).toBe(failed.attempts - 1);
  });

  it('fails an attempt whose answer does not come within the headers timeout, or whose body stalls, even after a 200', async () => {
    const quick = testConfig({ DELIVERY_BACKOFF_SCALE: String(SCALE) });
    const quickWorker = await createTestWorker(env, quick, { timeouts: { connectMs: 1_000, headersMs: 400, bodyMs: 400 } });
    const quickApi = apiFor(env.client, quick);
    const replies = ['hang' as const, 'stall-body' as const, 200];
    receiver.responder = (_request, index) => replies[index] ?? 200;
    await quickWorker.runUntil(async () => {
      const created = await quickApi('POST', '/v1/partners/slow/subscriptions', {
        url: receiver.url('/slow'),
        eventTypes: ['invoice.paid'],
        batching: { maxEvents: 1 },
      });
      expect(created.status).toBe(201);
      await quickApi('POST', '/v1/partners/slow/events', { type: 'invoice.paid', data: {} });
      const batchId = JSON.parse((await eventually(() => at('/slow')[0])).body).batch_id as string;
      const pendingErrors = new Set<string>();
      const delivered = await eventually(async () => {
        const found = await quickApi('GET', `/v1/batches/${batchId}`);
        if (found.json.lastError) pendingErrors.add(found.json.lastError);
        return found.json.status === 'delivered' ? found.json : undefined;
      });
      expect(delivered.attempts).toBe(3);
      expect([...pendingErrors].join('\n')).toMatch(/UND_ERR_HEADERS_TIMEOUT|UND_ERR_BODY_TIMEOUT/);
    });
  });
});
