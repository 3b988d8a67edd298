import { describe, expect, it } from 'vitest';
import { useServerSuite, type ServerSuite } from '../support/suite';
import { eventually } from '../../harness/temporal';

/**
 * Paging through a subscription's batches with Temporal's visibility page tokens as cursors:
 * every batch once, across pages, with a status filter, and a redelivered batch once with its
 * latest state. DELIVERY_BACKOFF_SCALE 0.00001: 26 attempts in about 26 s.
 */
describe("a subscription's batches, page by page", () => {
  let s: ServerSuite;
  useServerSuite({ DELIVERY_BACKOFF_SCALE: '0.00001' }, (suite) => (s = suite));

  async function subscribe(partnerId: string, path: string) {
    const created = await s.api('POST', `/v1/partners/${partnerId}/subscriptions`, { url: s.receiver.url(path), eventTypes: ['t'], batching: { windowMs: 1_000, maxEvents: 1 } });
    expect(created.status).toBe(201);
    return created.json.id as string;
  }

  /** Every page at `limit`, following nextCursor: the batch ids, and how many pages it took. */
  async function allPages(partnerId: string, id: string, limit: number, status?: string) {
    const ids: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const query = new URLSearchParams({ limit: String(limit), ...(status ? { status } : {}), ...(cursor ? { cursor } : {}) });
      const page = await s.api('GET', `/v1/partners/${partnerId}/subscriptions/${id}/batches?${query}`);
      expect(page.status).toBe(200);
      const batches = page.json.batches as { batchId: string; status: string }[];
      expect(batches.length).toBeLessThanOrEqual(limit);
      if (status) expect(batches.every((batch) => batch.status === status)).toBe(true);
      ids.push(...batches.map((batch) => batch.batchId));
      cursor = page.json.nextCursor as string | null;
      pages++;
    } while (cursor && pages < 50);
    return { ids, pages };
  }

  it('gives every batch once across pages, by status too, and refuses a cursor it did not give', async () => {
    const id = await subscribe('pages', '/pages');
    for (let i = 0; i < 7; i++) expect((await s.api('POST', '/v1/partners/pages/events', { type: 't', data: { i } })).status).toBe(202);
    const delivered = await eventually(() => {
      const ids = s.receiver.requests.filter((r) => r.path === '/pages').map((r) => (JSON.parse(r.body) as { batch_id: string }).batch_id);
      return ids.length === 7 ? ids : undefined;
    }, 30_000, '7 batches delivered');
    // Visibility catches up with the deliveries.
    await eventually(async () => ((await allPages('pages', id, 500, 'delivered')).ids.length === 7 ? true : undefined), 10_000, 'the listing');

    const byThree = await allPages('pages', id, 3);
    expect(byThree.pages).toBeGreaterThanOrEqual(3);
    expect(byThree.ids).toHaveLength(7);
    expect(new Set(byThree.ids)).toEqual(new Set(delivered));
    expect((await allPages('pages', id, 2, 'delivered')).ids.sort()).toEqual([...delivered].sort());
    expect((await allPages('pages', id, 2, 'failed')).ids).toEqual([]);

    const bad = await s.api('GET', `/v1/partners/pages/subscriptions/${id}/batches?cursor=bm90LWEtdG9rZW4`);
    expect(bad.status).toBe(400);
    expect(bad.contentType).toBe('application/problem+json');
    // A real cursor of another listing (the delivered ones) does not page this one.
    const deliveredPage = await s.api('GET', `/v1/partners/pages/subscriptions/${id}/batches?status=delivered&limit=2`);
    const foreign = deliveredPage.json.nextCursor as string;
    expect(foreign).toEqual(expect.any(String));
    expect((await s.api('GET', `/v1/partners/pages/subscriptions/${id}/batches?status=pending&cursor=${foreign}`)).status).toBe(400);
  });

  it('lists a failed batch that was redelivered once, with the state of its latest run', async () => {
    let down = true;
    s.receiver.responder = (request) => (request.path === '/redelivered' && down ? 503 : 200);
    const id = await subscribe('pages-redelivered', '/redelivered');
    expect((await s.api('POST', '/v1/partners/pages-redelivered/events', { type: 't', data: {} })).status).toBe(202);
    const failed = await eventually(async () => {
      const page = await s.api('GET', `/v1/partners/pages-redelivered/subscriptions/${id}/batches?status=failed`);
      return (page.json.batches as { batchId: string }[])[0];
    }, 90_000, 'the batch to fail its 26 attempts');
    down = false;
    expect((await s.api('POST', `/v1/batches/${failed.batchId}/redeliver`)).status).toBe(202);
    await eventually(async () => ((await s.api('GET', `/v1/batches/${failed.batchId}`)).json.status === 'delivered' ? true : undefined), 30_000, 'the redelivery');
    const listed = await eventually(async () => {
      const { ids } = await allPages('pages-redelivered', id, 1);
      const page = await s.api('GET', `/v1/partners/pages-redelivered/subscriptions/${id}/batches`);
      return ids.length === 1 && page.json.batches[0]?.status === 'delivered' ? ids : undefined;
    }, 10_000, 'one listing of the batch, delivered');
    expect(listed).toEqual([failed.batchId]);
    expect((await allPages('pages-redelivered', id, 5, 'failed')).ids).toEqual([]);
  }, 150_000);
});
