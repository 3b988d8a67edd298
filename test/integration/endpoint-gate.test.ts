import { describe, expect, it } from 'vitest';
import { GATE_AFTER_FAILED_ATTEMPTS } from '../../domain/schedule';
import type { apiFor } from '../../harness/api';
import type { Receiver } from '../../harness/receiver';
import { useServerSuite } from '../support/suite';
import { eventually } from '../../harness/temporal';

/**
 * The endpoint gate on a real dev server: once a batch has failed three attempts, newer batches are
 * held (not attempted) behind it; its success releases them; its exhaustion disables the
 * subscription, and enabling it again releases what was held. Retries scaled 100,000 times down.
 */
describe('a failing endpoint', () => {
  let receiver: Receiver;
  let api: ReturnType<typeof apiFor>;
  useServerSuite({ DELIVERY_BACKOFF_SCALE: '0.00001' }, (suite) => ({ receiver, api } = suite));

  const batchIdOf = (body: string) => (JSON.parse(body) as { batch_id: string }).batch_id;
  const eventIdsIn = (body: string) => (JSON.parse(body) as { events: { id: string }[] }).events.map((event) => event.id);

  async function subscribe(partnerId: string, path: string) {
    const created = await api('POST', `/v1/partners/${partnerId}/subscriptions`, {
      url: receiver.url(path),
      eventTypes: ['order.shipped'],
      // One event a batch: every event posted is a batch of its own.
      batching: { windowMs: 1000, maxEvents: 1 },
    });
    expect(created.status).toBe(201);
    const id = created.json.id as string;
    const read = async () => (await api('GET', `/v1/partners/${partnerId}/subscriptions/${id}`)).json;
    const post = async () => {
      const posted = await api('POST', `/v1/partners/${partnerId}/events`, { type: 'order.shipped', data: {} });
      expect(posted.status).toBe(202);
      return posted.json.events[0] as { id: string; subscriptions: number };
    };
    return { id, read, post };
  }

  it('holds newer batches behind the first failing one and releases them all when it gets through', async () => {
    let down = true;
    receiver.responder = () => (down ? 503 : 200);
    const sub = await subscribe('gate-holds', '/holds');
    const first = await sub.post();
    const gated = await eventually(async () => {
      const view = await sub.read();
      return view.endpointHealth.failingSince ? view : undefined;
    }, 30_000, 'the gate to close');
    const probe = gated.endpointHealth.probeBatchId as string;
    expect(receiver.requests.filter((r) => batchIdOf(r.body) === probe).length).toBeGreaterThanOrEqual(GATE_AFTER_FAILED_ATTEMPTS);

    const later = [await sub.post(), await sub.post(), await sub.post(), await sub.post()];
    await eventually(async () => ((await sub.read()).endpointHealth.heldBatches === 4 ? true : undefined), 20_000, 'four held batches');
    // Held batches are not attempted: every request so far is the probe's.
    await new Promise((resolve) => setTimeout(resolve, 3_000));
    expect(new Set(receiver.requests.map((r) => batchIdOf(r.body)))).toEqual(new Set([probe]));

    down = false;
    const delivered = await eventually(() => {
      const ids = new Set(receiver.requests.slice(-10).flatMap((r) => eventIdsIn(r.body)));
      return [first, ...later].every((event) => ids.has(event.id)) ? ids : undefined;
    }, 60_000, 'every event delivered');
    expect(delivered.size).toBe(5);
    const view = await sub.read();
    expect(view).toMatchObject({ enabled: true, endpointHealth: { failingSince: null, probeBatchId: null, heldBatches: 0 } });
  });

  it('disables the subscription when the probe fails its last attempt, and enabling it releases the held batches', async () => {
    let down = true;
    receiver.responder = () => (down ? 503 : 200);
    const sub = await subscribe('gate-disables', '/disables');
    await sub.post();
    await eventually(async () => ((await sub.read()).endpointHealth.failingSince ? true : undefined), 30_000, 'the gate to close');
    const held = [await sub.post(), await sub.post()];
    const disabled = await eventually(async () => {
      const view = await sub.read();
      return view.enabled === false ? view : undefined;
    }, 90_000, 'the probe to exhaust its attempts');
    expect(disabled.endpointHealth.disabledReason).toMatch(/failed all attempts/);
    // The oldest held batch probes next; the other stays held.
    expect(disabled.endpointHealth.heldBatches).toBe(1);

    // A disabled subscription takes no new events (once this API's routing table has refreshed).
    const routedTo = await eventually(async () => ((await sub.post()).subscriptions === 0 ? 0 : undefined), 20_000, 'no routing');
    expect(routedTo).toBe(0);

    down = false;
    const enabled = await api('PATCH', `/v1/partners/gate-disables/subscriptions/${sub.id}`, { enabled: true });
    expect(enabled.status).toBe(200);
    expect(enabled.json.enabled).toBe(true);
    await eventually(() => {
      const ids = new Set(receiver.requests.filter((r) => r.path === '/disables').flatMap((r) => eventIdsIn(r.body)));
      return held.every((event) => ids.has(event.id)) ? true : undefined;
    }, 60_000, 'the held events delivered');
    expect((await sub.post()).subscriptions).toBe(1);
  }, 180_000);
});

describe('a held batch whose hold runs out', () => {
  let receiver: Receiver;
  let api: ReturnType<typeof apiFor>;
  // Retries 10 million times faster: a held batch's hold (twice the retry period) lasts half a second.
  useServerSuite({ DELIVERY_BACKOFF_SCALE: '0.0000001' }, (suite) => ({ receiver, api } = suite));

  it('fails unattempted, leaves the held list, and a redelivery attempts it unheld', async () => {
    let down = true;
    receiver.responder = () => (down ? 503 : 200);
    const created = await api('POST', '/v1/partners/gate-expires/subscriptions', { url: receiver.url('/expires'), eventTypes: ['order.shipped'], batching: { windowMs: 1000, maxEvents: 1 } });
    const id = created.json.id as string;
    const read = async () => (await api('GET', `/v1/partners/gate-expires/subscriptions/${id}`)).json;
    await api('POST', '/v1/partners/gate-expires/events', { type: 'order.shipped', data: { n: 1 } });
    await eventually(async () => ((await read()).endpointHealth.failingSince ? true : undefined), 30_000, 'the gate to close');
    const posted = await api('POST', '/v1/partners/gate-expires/events', { type: 'order.shipped', data: { n: 2 } });
    const eventId = posted.json.events[0].id as string;

    const failed = await eventually(async () => {
      const listed = await api('GET', `/v1/partners/gate-expires/subscriptions/${id}/batches?status=failed`);
      return listed.json.batches.find((b: { eventCount: number; sequence: number }) => b.sequence === 2);
    }, 30_000, 'the held batch to fail');
    const batch = (await api('GET', `/v1/batches/${failed.batchId}`)).json;
    expect(batch).toMatchObject({ status: 'failed', attempts: 0 });
    expect(batch.lastError).toMatch(/not attempted/);
    expect(receiver.requests.some((r) => r.body.includes(eventId))).toBe(false);
    await eventually(async () => ((await read()).endpointHealth.heldBatches === 0 ? true : undefined), 10_000, 'the held list emptied');

    down = false;
    expect((await api('POST', `/v1/batches/${failed.batchId}/redeliver`)).status).toBe(202);
    await eventually(() => receiver.requests.find((r) => r.body.includes(eventId)), 30_000, 'the redelivered batch');
    await eventually(async () => ((await api('GET', `/v1/batches/${failed.batchId}`)).json.status === 'delivered' ? true : undefined), 30_000, 'delivered');
  });
});
