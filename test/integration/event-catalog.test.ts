import { describe, expect, it } from 'vitest';
import { ConflictError } from '../../domain/errors';
import { EventTypeStore } from '../../stores/event-type-store';
import { apiFor } from '../../harness/api';
import { useServerSuite, type ServerSuite } from '../support/suite';
import { eventually } from '../../harness/temporal';

/**
 * The event-type catalog on a real dev server: types stored as workflows, schemas checked when
 * saved, events checked at ingest (nothing of a refused request acknowledged), and the setting
 * that refuses types the catalog does not hold.
 */

const orderSchema = {
  type: 'object',
  properties: { orderId: { type: 'string' }, amount: { type: 'number', minimum: 0 }, email: { type: 'string', format: 'email' } },
  required: ['orderId', 'amount'],
};

describe('the event-type catalog', () => {
  let s: ServerSuite;
  useServerSuite({ DELIVERY_BACKOFF_SCALE: '0.00001' }, (suite) => (s = suite));

  async function subscribe(api: ServerSuite['api'], partnerId: string, eventTypes: string[]) {
    return api('POST', `/v1/partners/${partnerId}/subscriptions`, { url: s.receiver.url(`/${partnerId}`), eventTypes, batching: { windowMs: 1_000, maxEvents: 100 } });
  }

  it('creates, reads, lists, changes and archives an event type; checks the schema and the example when saved', async () => {
    const created = await s.api('POST', '/v1/event-types', { name: 'order.created', description: 'An order was placed', schema: orderSchema, example: { orderId: 'o-1', amount: 12.5 } });
    expect(created).toMatchObject({ status: 201, json: { name: 'order.created', version: 1, archived: false, schema: orderSchema } });
    expect((await s.api('POST', '/v1/event-types', { name: 'order.created', description: 'again' })).status).toBe(409);

    const badSchema = await s.api('POST', '/v1/event-types', { name: 'order.bad', schema: { type: 'nonsense' } });
    expect(badSchema.status).toBe(400);
    expect(badSchema.json.errors[0]).toMatchObject({ path: 'body.schema', message: expect.stringContaining('not a valid JSON Schema') as string });
    const badExample = await s.api('POST', '/v1/event-types', { name: 'order.bad', schema: orderSchema, example: { orderId: 'o-1', amount: -1, email: 'nope' } });
    expect(badExample.status).toBe(400);
    expect(badExample.json.errors.map((e: { path: string }) => e.path).sort()).toEqual(['body.example.amount', 'body.example.email']);
    expect((await s.api('GET', '/v1/event-types/order.bad')).status).toBe(404);

    expect(await s.api('GET', '/v1/event-types/order.created')).toMatchObject({ status: 200, json: { description: 'An order was placed' } });
    // A schema change the stored example does not satisfy is refused: the pair stays consistent.
    const breaking = await s.api('PATCH', '/v1/event-types/order.created', { schema: { ...orderSchema, required: ['orderId', 'amount', 'currency'] } });
    expect(breaking.status).toBe(400);
    expect(breaking.json.errors[0].path).toBe('body.example');
    const changed = await s.api('PATCH', '/v1/event-types/order.created', { description: 'An order was placed by a customer' });
    expect(changed).toMatchObject({ status: 200, json: { version: 2, description: 'An order was placed by a customer' } });
    // A change checked against version 1 lands after version 2: refused, not silently merged.
    const store = new EventTypeStore(s.env.client, s.config);
    await expect(store.change('order.created', { description: 'stale' }, 1)).rejects.toThrow(ConflictError);

    expect(await s.api('POST', '/v1/event-types/order.created/archive')).toMatchObject({ status: 200, json: { archived: true, version: 3 } });
    await eventually(async () => {
      const listed = (await s.api('GET', '/v1/event-types')).json.eventTypes as { name: string; archived: boolean; version: number }[];
      const found = listed.find((type) => type.name === 'order.created');
      return found?.version === 3 ? found : undefined;
    }, 10_000, 'the listing to show version 3');
    expect((await s.api('POST', '/v1/event-types/no.such.type/archive')).status).toBe(404);
  });

  it("refuses an event whose data breaks its type's schema, naming the path, and acknowledges nothing of that request", async () => {
    await s.api('POST', '/v1/event-types', { name: 'payment.settled', schema: orderSchema, example: { orderId: 'o', amount: 1 } });
    const sub = await subscribe(s.api, 'catalog-ingest', ['payment.settled', 'free.form']);
    expect(sub.status).toBe(201);

    const single = await s.api('POST', '/v1/partners/catalog-ingest/events', { type: 'payment.settled', data: { orderId: 'o-1', amount: 'ten' } });
    expect(single.status).toBe(400);
    expect(single.json.errors).toEqual([{ path: 'body.data.amount', message: expect.stringContaining('must be number') as string }]);
    const array = await s.api('POST', '/v1/partners/catalog-ingest/events', [
      { type: 'payment.settled', data: { orderId: 'o-2', amount: 2 } },
      { type: 'free.form', data: { anything: true } },
      { type: 'payment.settled', data: { amount: 3 } },
    ]);
    expect(array.status).toBe(400);
    expect(array.json.errors).toEqual([{ path: 'body.2.data', message: expect.stringContaining("must have required property 'orderId'") as string }]);

    // A type the catalog does not hold is allowed (UNKNOWN_EVENT_TYPES=allow, the default), unchecked.
    const good = await s.api('POST', '/v1/partners/catalog-ingest/events', [
      { type: 'payment.settled', data: { orderId: 'o-3', amount: 3 } },
      { type: 'free.form', data: { anything: true } },
    ]);
    expect(good.status).toBe(202);
    const delivered = await eventually(() => s.receiver.requests.find((r) => r.path === '/catalog-ingest'), 20_000, 'the batch');
    const events = (JSON.parse(delivered.body) as { events: { data: Record<string, unknown> }[] }).events;
    // Only the accepted request's events: none of the refused ones went anywhere.
    expect(events.map((e) => e.data)).toEqual([{ orderId: 'o-3', amount: 3 }, { anything: true }]);
  });

  it('with UNKNOWN_EVENT_TYPES=refuse, refuses events and subscriptions naming types the catalog does not hold, and archived types for subscriptions', async () => {
    const api = apiFor(s.env.client, { ...s.config, catalog: { unknownTypes: 'refuse' } });
    await api('POST', '/v1/event-types', { name: 'strict.known' });
    await api('POST', '/v1/event-types', { name: 'strict.old' });
    expect((await api('POST', '/v1/event-types/strict.old/archive')).status).toBe(200);

    const refused = await subscribe(api, 'catalog-strict', ['strict.known', 'strict.typo', 'strict.old']);
    expect(refused.status).toBe(400);
    expect(refused.json.errors).toEqual([{ path: 'body.eventTypes', message: 'strict.typo is not in the event-type catalog; strict.old is archived' }]);
    const sub = await subscribe(api, 'catalog-strict', ['strict.known']);
    expect(sub.status).toBe(201);
    expect((await api('PATCH', `/v1/partners/catalog-strict/subscriptions/${sub.json.id}`, { eventTypes: ['strict.typo'] })).status).toBe(400);

    // A subscription from before the setting keeps its free-form types through a change; new ones are checked.
    const older = await subscribe(s.api, 'catalog-strict', ['legacy.type']);
    expect(older.status).toBe(201);
    const kept = await api('PATCH', `/v1/partners/catalog-strict/subscriptions/${older.json.id}`, { eventTypes: ['legacy.type', 'strict.known'] });
    expect(kept).toMatchObject({ status: 200, json: { eventTypes: ['legacy.type', 'strict.known'] } });
    const added = await api('PATCH', `/v1/partners/catalog-strict/subscriptions/${older.json.id}`, { eventTypes: ['legacy.type', 'other.typo'] });
    expect(added.json.errors).toEqual([{ path: 'body.eventTypes', message: 'other.typo is not in the event-type catalog' }]);

    const unknown = await api('POST', '/v1/partners/catalog-strict/events', [{ type: 'strict.known', data: {} }, { type: 'strict.typo', data: {} }]);
    expect(unknown.status).toBe(400);
    expect(unknown.json.errors).toEqual([{ path: 'body.1.type', message: 'strict.typo is not in the event-type catalog' }]);
    // An archived type's events are still accepted: existing subscriptions may want them.
    expect((await api('POST', '/v1/partners/catalog-strict/events', { type: 'strict.old', data: {} })).status).toBe(202);
    expect((await api('POST', '/v1/partners/catalog-strict/events', { type: 'strict.known', data: {} })).status).toBe(202);
  });

  it('applies a type saved through another API process once its catalog refreshes', async () => {
    const other = apiFor(s.env.client, s.config);
    // This process loads its catalog before the type exists.
    expect((await s.api('POST', '/v1/partners/catalog-refresh/events', { type: 'refresh.checked', data: { n: 'one' } })).status).toBe(202);
    await other('POST', '/v1/event-types', { name: 'refresh.checked', schema: { type: 'object', properties: { n: { type: 'integer' } } } });
    const refused = await eventually(async () => {
      const answer = await s.api('POST', '/v1/partners/catalog-refresh/events', { type: 'refresh.checked', data: { n: 'one' } });
      return answer.status === 400 ? answer : undefined;
    }, 15_000, 'the other process to check the new schema');
    expect(refused.json.errors[0].path).toBe('body.data.n');
  });
});
