import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { describe, expect, it } from 'vitest';
import type { Config } from '../../platform/config';
import type { BatchPayload } from '../../domain/payload';
import { MAX_BATCH_BYTES, MAX_EVENT_BYTES } from '../../domain/schema';
import { stateQuery } from '../../workflows/messages';
import { apiFor } from '../../harness/api';
import { startSubscription } from '../../harness/in-process';
import type { Receiver } from '../../harness/receiver';
import { useServerSuite } from '../support/suite';
import { eventually } from '../../harness/temporal';

/** Ingest through the real API app into a real Temporal server: routing, group commit, limits. */
describe('ingest on a real Temporal server', () => {
  let env: TestWorkflowEnvironment;
  let config: Config;
  let receiver: Receiver;
  let api: ReturnType<typeof apiFor>;

  useServerSuite({ INGEST_SIGNAL_INTERVAL_MS: '50' }, (suite) => ({ env, config, receiver, api } = suite));

  const bodiesAt = (path: string) => receiver.requests.filter((r) => r.path === path).map((r) => JSON.parse(r.body) as BatchPayload);

  it('delivers 10,000 events from 50 concurrent clients exactly once and in order, across many continue-as-new', async () => {
    const path = '/hot';
    const { handle, partnerId, subscriptionId } = await startSubscription(
      env,
      config,
      { url: receiver.url(path), eventTypes: ['page.viewed'], batching: { windowMs: 1_000, maxEvents: 100 } },
      // Thresholds lowered so that this one subscription crosses many run boundaries under load.
      { limits: { signals: 10, batches: 10, historyEvents: 1_000 } },
    );
    const firstRunId = (await handle.describe()).runId;
    // The API finds the subscription through visibility, as any other API process would.
    await eventually(async () => {
      const listed = await api('GET', `/v1/partners/${partnerId}/subscriptions`);
      return listed.json.subscriptions.length === 1 ? true : undefined;
    });

    const CLIENTS = 50;
    const PER_CLIENT = 200;
    const acknowledged = new Set<string>();
    await Promise.all(
      Array.from({ length: CLIENTS }, async (_, client) => {
        for (let seq = 0; seq < PER_CLIENT; seq++) {
          const answer = await api('POST', `/v1/partners/${partnerId}/events`, { type: 'page.viewed', data: { client, seq } });
          expect(answer.status).toBe(202);
          expect(answer.json.events[0].subscriptions).toBe(1);
          acknowledged.add(answer.json.events[0].id);
        }
      }),
    );
    expect(acknowledged.size).toBe(CLIENTS * PER_CLIENT);

    const delivered = await eventually(
      () => {
        const count = bodiesAt(path).reduce((sum, b) => sum + b.count, 0);
        return count >= acknowledged.size ? bodiesAt(path) : undefined;
      },
      120_000,
      'every acknowledged event at the receiver',
    );

    // Exactly once: every acknowledged id in one batch, no id twice, no batch sent twice.
    const ids = delivered.flatMap((b) => b.events.map((e) => e.id));
    expect(ids.length).toBe(acknowledged.size);
    expect(new Set(ids)).toEqual(acknowledged);
    expect(new Set(delivered.map((b) => b.batch_id)).size).toBe(delivered.length);
    for (const batch of delivered) {
      expect(batch.count).toBe(batch.events.length);
      expect(batch.count).toBeLessThanOrEqual(100);
    }

    // Acceptance order: in batch sequence order, each client's events come in the order it posted them.
    const listed = (await api('GET', `/v1/partners/${partnerId}/subscriptions/${subscriptionId}/batches`)).json.batches as {
      batchId: string;
      sequence: number;
    }[];
    expect(listed).toHaveLength(delivered.length);
    const sequenceOf = new Map(listed.map((b) => [b.batchId, b.sequence]));
    const inOrder = [...delivered].sort((a, b) => sequenceOf.get(a.batch_id)! - sequenceOf.get(b.batch_id)!);
    const lastSeq = new Map<number, number>();
    for (const event of inOrder.flatMap((b) => b.events)) {
      const { client, seq } = event.data as { client: number; seq: number };
      expect(seq).toBe((lastSeq.get(client) ?? -1) + 1);
      lastSeq.set(client, seq);
    }

    // Several runs were crossed, and the group commit merged requests into far fewer signals.
    const runIds: string[] = [];
    for await (const run of env.client.workflow.list({ query: `WorkflowId = '${handle.workflowId}'` })) runIds.push(run.runId);
    let taskFailures = 0;
    let signals = 0;
    for (const runId of runIds) {
      const history = await env.client.workflow.getHandle(handle.workflowId, runId).fetchHistory();
      taskFailures += history.events!.filter((e) => e.workflowTaskFailedEventAttributes).length;
      signals += history.events!.filter((e) => e.workflowExecutionSignaledEventAttributes).length;
    }
    console.log(`runs ${runIds.length}, signals ${signals}, workflow task failures ${taskFailures}`);
    expect(runIds.length).toBeGreaterThan(3);
    expect((await handle.describe()).runId).not.toBe(firstRunId);
    expect((await handle.query(stateQuery)).pendingEvents).toBe(0);
  });

  it('routes each event to every active subscription of its partner that wants its type, honouring changes at once', async () => {
    const partnerId = 'router';
    const create = (eventTypes: string[], path: string) =>
      api('POST', `/v1/partners/${partnerId}/subscriptions`, { url: receiver.url(path), eventTypes, batching: { maxEvents: 1 } });
    const a = (await create(['order.paid', 'order.refunded'], '/a')).json.id as string;
    const b = (await create(['order.paid'], '/b')).json.id as string;
    await api('POST', '/v1/partners/someone-else/subscriptions', { url: receiver.url('/other'), eventTypes: ['order.paid'] });

    const routed = async (type: string) => (await api('POST', `/v1/partners/${partnerId}/events`, { type, data: {} })).json.events[0].subscriptions;
    expect(await routed('order.paid')).toBe(2);
    expect(await routed('order.refunded')).toBe(1);
    expect(await routed('order.created')).toBe(0);

    expect((await api('PATCH', `/v1/partners/${partnerId}/subscriptions/${b}`, { eventTypes: ['order.created'] })).status).toBe(200);
    expect(await routed('order.created')).toBe(1);
    expect(await routed('order.paid')).toBe(1);
    expect((await api('DELETE', `/v1/partners/${partnerId}/subscriptions/${a}`)).status).toBe(204);
    expect(await routed('order.paid')).toBe(0);

    // Another API process converges within its cache TTL plus the visibility lag.
    const otherProcess = apiFor(env.client, config);
    const seenElsewhere = await eventually(async () => {
      const answer = await otherProcess('POST', `/v1/partners/${partnerId}/events`, { type: 'order.created', data: {} });
      return answer.json.events[0].subscriptions === 1 ? true : undefined;
    }, 10_000);
    expect(seenElsewhere).toBe(true);
    await eventually(() => (bodiesAt('/other').length === 0 && bodiesAt('/b').length >= 1 ? true : undefined));
  });

  it('follows subscriptions created, changed, disabled and deleted through another API process, reading only what changed', async () => {
    const partnerId = 'router-elsewhere';
    // The other process reads its whole routing table now, before any of these changes; within
    // ROUTES_FULL_REFRESH_MS (a minute) only its readings of changes can show it what follows.
    const otherProcess = apiFor(env.client, config);
    const routedElsewhere = async (type: string) => (await otherProcess('POST', `/v1/partners/${partnerId}/events`, { type, data: {} })).json.events[0].subscriptions as number;
    expect(await routedElsewhere('order.paid')).toBe(0);
    const seen = (type: string, count: number, what: string) => eventually(async () => ((await routedElsewhere(type)) === count ? true : undefined), 15_000, what);

    const created = await api('POST', `/v1/partners/${partnerId}/subscriptions`, { url: receiver.url('/elsewhere'), eventTypes: ['order.paid'] });
    const id = created.json.id as string;
    await seen('order.paid', 1, 'the new subscription');
    expect((await api('PATCH', `/v1/partners/${partnerId}/subscriptions/${id}`, { eventTypes: ['order.refunded'] })).status).toBe(200);
    await seen('order.refunded', 1, 'the changed event types');
    expect(await routedElsewhere('order.paid')).toBe(0);
    expect((await api('PATCH', `/v1/partners/${partnerId}/subscriptions/${id}`, { enabled: false })).status).toBe(200);
    await seen('order.refunded', 0, 'the subscription disabled');
    expect((await api('PATCH', `/v1/partners/${partnerId}/subscriptions/${id}`, { enabled: true })).status).toBe(200);
    await seen('order.refunded', 1, 'the subscription enabled again');
    expect((await api('DELETE', `/v1/partners/${partnerId}/subscriptions/${id}`)).status).toBe(204);
    await seen('order.refunded', 0, 'the subscription deleted');
  });

  it('applies a PATCHed batching from the next batch', async () => {
    const created = await api('POST', '/v1/partners/patcher/subscriptions', {
      url: receiver.url('/patched'),
      eventTypes: ['t'],
      batching: { windowMs: 60_000, maxEvents: 5 },
    });
    const id = created.json.id as string;
    await api('POST', '/v1/partners/patcher/events', [1, 2, 3].map((n) => ({ type: 't', data: { n } })));
    expect((await api('GET', `/v1/partners/patcher/subscriptions/${id}`)).json.pendingEvents).toBe(3);
    const patched = await api('PATCH', `/v1/partners/patcher/subscriptions/${id}`, { batching: { maxEvents: 2 } });
    expect(patched.json.batching).toEqual({ windowMs: 60_000, maxEvents: 2 });

    const [batch] = await eventually(() => (bodiesAt('/patched').length >= 1 ? bodiesAt('/patched') : undefined));
    expect(batch!.events.map((e) => e.data.n)).toEqual([1, 2]);
    expect((await api('GET', `/v1/partners/patcher/subscriptions/${id}`)).json.pendingEvents).toBe(1);
  });

  it('refuses a request over a limit with a problem naming it, and accepts nothing of it', async () => {
    const created = await api('POST', '/v1/partners/limits/subscriptions', { url: receiver.url('/limits'), eventTypes: ['t'] });
    const id = created.json.id as string;

    const oversized = await api('POST', '/v1/partners/limits/events', [
      { type: 't', data: { ok: true } },
      { type: 't', data: { blob: 'x'.repeat(MAX_EVENT_BYTES) } },
    ]);
    expect(oversized.status).toBe(413);
    expect(oversized.contentType).toBe('application/problem+json');
    expect(oversized.json.detail).toContain(`${MAX_EVENT_BYTES} bytes`);

    const tooMany = await api('POST', '/v1/partners/limits/events', Array.from({ length: 1_001 }, () => ({ type: 't', data: {} })));
    expect(tooMany.status).toBe(400);
    expect(tooMany.json.detail).toMatch(/1000/);

    const tooBig = await api('POST', '/v1/partners/limits/events', Array.from({ length: 100 }, () => ({ type: 't', data: { blob: 'y'.repeat(12_000) } })));
    expect(tooBig.status).toBe(413);
    expect(tooBig.json.detail).toMatch(/1048576 bytes/);

    expect((await api('GET', `/v1/partners/limits/subscriptions/${id}`)).json.pendingEvents).toBe(0);
  });

  it('cuts a batch early rather than let its payload pass the byte limit', async () => {
    const created = await api('POST', '/v1/partners/bulky/subscriptions', {
      url: receiver.url('/bulky'),
      eventTypes: ['t'],
      batching: { windowMs: 1_000, maxEvents: 100 },
    });
    expect(created.status).toBe(201);
    const blob = 'z'.repeat(12_000);
    for (let round = 0; round < 3; round++) {
      const answer = await api('POST', '/v1/partners/bulky/events', Array.from({ length: 20 }, (_, i) => ({ type: 't', data: { round, i, blob } })));
      expect(answer.status).toBe(202);
    }
    const bodies = await eventually(() => {
      const received = receiver.requests.filter((r) => r.path === '/bulky');
      return received.reduce((n, r) => n + (JSON.parse(r.body) as BatchPayload).count, 0) >= 60 ? received : undefined;
    });
    expect(bodies.length).toBeGreaterThan(1);
    for (const body of bodies) expect(Buffer.byteLength(body.body)).toBeLessThanOrEqual(MAX_BATCH_BYTES);
  });
});
