import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiFor } from '../../harness/api';
import { TEST_SIGNING_KEY, testConfig } from '../../harness/in-process';
import type { Receiver } from '../../harness/receiver';
import { startStack, type Stack } from '../../harness/stack';
import { eventually } from '../../harness/temporal';

/**
 * Bulk recovery on a real dev server, with real worker processes (one killed with SIGKILL halfway):
 * 50 failed batches in the range, each redelivered once (an attempt the kill interrupts may repeat,
 * as any delivery may) once the endpoint works; failed batches cut before and after the range stay
 * failed. DELIVERY_BACKOFF_SCALE 0.00001: 26 attempts in ~26 s.
 */
const SCALE = '0.00001';

describe('redelivering the failed batches of a time range', () => {
  let stack: Stack;
  let receiver: Receiver;
  const config = testConfig({ DELIVERY_BACKOFF_SCALE: SCALE });

  beforeAll(async () => {
    // The API runs in this process (apiFor); the worker as its own, to be killed.
    stack = await startStack({
      apis: 0,
      env: {
        TEMPORAL_NAMESPACE: config.temporal.namespace,
        TEMPORAL_TASK_QUEUE: config.temporal.taskQueue,
        DELIVERY_BACKOFF_SCALE: SCALE,
        WEBHOOK_SIGNING_KEY: TEST_SIGNING_KEY,
      },
    });
    receiver = stack.receiver;
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('redelivers each failed batch of the range once, oldest first, across a killed worker, and nothing outside it', async () => {
    const api = apiFor(stack.client, config);
    let down = true;
    receiver.responder = () => (down ? 503 : 200);
    const created = await api('POST', '/v1/partners/recovery/subscriptions', { url: receiver.url('/recovery'), eventTypes: ['t'], batching: { windowMs: 1_000, maxEvents: 1 } });
    expect(created.status).toBe(201);
    const id = created.json.id as string;
    const failedIds = async () => {
      const ids: string[] = [];
      let cursor: string | null = null;
      do {
        const page = await api('GET', `/v1/partners/recovery/subscriptions/${id}/batches?status=failed${cursor ? `&cursor=${cursor}` : ''}`);
        ids.push(...(page.json.batches as { batchId: string }[]).map((batch) => batch.batchId));
        cursor = page.json.nextCursor as string | null;
      } while (cursor);
      return ids;
    };
    /** Posts `count` events (each its own batch), waits until they have all failed, and opens the endpoint gate again. */
    const failGroup = async (count: number, total: number) => {
      expect((await api('POST', '/v1/partners/recovery/events', Array.from({ length: count }, (_, n) => ({ type: 't', data: { n } })))).status).toBe(202);
      const ids = await eventually(async () => {
        const found = await failedIds();
        return found.length === total ? found : undefined;
      }, 150_000, `${total} failed batches`);
      // The probe's last failure disabled the subscription: enable it for the next group.
      expect((await api('PATCH', `/v1/partners/recovery/subscriptions/${id}`, { enabled: true })).status).toBe(200);
      return ids;
    };

    const before = await failGroup(3, 3);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const since = new Date().toISOString();
    const inRange = (await failGroup(50, 53)).filter((batchId) => !before.includes(batchId));
    const until = new Date().toISOString();
    await new Promise((resolve) => setTimeout(resolve, 50));
    const after = (await failGroup(3, 56)).filter((batchId) => !before.includes(batchId) && !inRange.includes(batchId));
    expect([before.length, inRange.length, after.length]).toEqual([3, 50, 3]);

    // A reversed or future range is refused; nothing has run.
    expect((await api('POST', `/v1/partners/recovery/subscriptions/${id}/recover`, { since: until, until: since })).status).toBe(400);
    expect((await api('POST', `/v1/partners/recovery/subscriptions/${id}/recover`, { since: new Date(Date.now() + 3_600_000).toISOString() })).status).toBe(400);
    expect((await api('GET', `/v1/partners/recovery/subscriptions/${id}/recover`)).status).toBe(404);

    down = false;
    const fixedAt = Date.now();
    const started = await api('POST', `/v1/partners/recovery/subscriptions/${id}/recover`, { since, until });
    expect(started).toMatchObject({ status: 202, json: { since, until } });
    // One recovery at a time.
    expect((await api('POST', `/v1/partners/recovery/subscriptions/${id}/recover`, { since, until })).status).toBe(409);

    // Halfway, the worker is killed; another takes over.
    await eventually(async () => {
      const progress = await api('GET', `/v1/partners/recovery/subscriptions/${id}/recover`);
      return progress.status === 200 && progress.json.redelivered >= 10 ? true : undefined;
    }, 60_000, 'ten redeliveries');
    await stack.workers[0]!.kill();
    const deliveredByThen = receiver.requests.filter((r) => r.receivedAt >= fixedAt).length;
    expect(deliveredByThen).toBeLessThan(50);
    stack.workers[0]!.start();

    const done = await eventually(async () => {
      const progress = await api('GET', `/v1/partners/recovery/subscriptions/${id}/recover`);
      return progress.json?.status === 'done' ? progress.json : undefined;
    }, 120_000, 'the recovery to finish');
    expect(done).toMatchObject({ found: 50, redelivered: 50, skipped: 0, delivered: 50, failedAgain: 0 });

    // Each batch of the range arrived since the fix, none from outside it. Once each, but for an
    // attempt the kill cut short after the partner answered: delivery is at least once, and a
    // repeat carries the same batch_id and bytes (the partner deduplicates by batch_id).
    const arrived = receiver.requests.filter((r) => r.receivedAt >= fixedAt);
    const bodiesById = new Map<string, Set<string>>();
    for (const request of arrived) {
      const batchId = (JSON.parse(request.body) as { batch_id: string }).batch_id;
      bodiesById.set(batchId, (bodiesById.get(batchId) ?? new Set()).add(request.body));
    }
    expect([...bodiesById.keys()].sort()).toEqual([...inRange].sort());
    expect([...bodiesById.values()].every((bodies) => bodies.size === 1)).toBe(true);
    expect(arrived.length - inRange.length).toBeLessThanOrEqual(2);
    const statusOf = async (batchId: string) => (await api('GET', `/v1/batches/${batchId}`)).json.status as string;
    for (const batchId of [...before, ...after]) expect(await statusOf(batchId)).toBe('failed');
    for (const batchId of inRange.slice(0, 5)) expect(await statusOf(batchId)).toBe('delivered');
    // Oldest first: the redelivered runs started in the order the batches were cut.
    const runs = await Promise.all(
      inRange.map(async (batchId) => ({
        sequence: (await api('GET', `/v1/batches/${batchId}`)).json.sequence as number,
        startedAt: (await stack.client.workflow.getHandle(`batch:${batchId}`).describe()).startTime.getTime(),
      })),
    );
    const byStart = [...runs].sort((a, b) => a.startedAt - b.startedAt).map((run) => run.sequence);
    expect(byStart).toEqual([...byStart].sort((a, b) => a - b));
    // The recovery is a workflow an operator finds in the Web UI, its progress in its memo.
    const description = await stack.client.workflow.getHandle(`recovery:recovery:${id}`).describe();
    expect(description.status.name).toBe('COMPLETED');
    expect((description.memo as { recovery: { delivered: number } }).recovery.delivered).toBe(50);
  }, 420_000);
});
