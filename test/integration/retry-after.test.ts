import { describe, expect, it } from 'vitest';
import { decodePayload } from '../../codec/payload-codec';
import { useServerSuite, type ServerSuite } from '../support/suite';
import { eventually } from '../../harness/temporal';

/**
 * Retry-After on a real server: DELIVERY_BACKOFF_SCALE 0.0001 makes the schedule's first wait
 * 2.5 ms, so a retry seconds later can only come from the endpoint's Retry-After.
 */
describe('Retry-After', () => {
  let s: ServerSuite;
  useServerSuite({ DELIVERY_BACKOFF_SCALE: '0.0001' }, (suite) => (s = suite));

  async function subscribeAndPost(path: string) {
    const created = await s.api('POST', `/v1/partners/retry-after/subscriptions`, { url: s.receiver.url(path), eventTypes: [path], batching: { windowMs: 1_000, maxEvents: 1 } });
    expect(created.status).toBe(201);
    expect((await s.api('POST', '/v1/partners/retry-after/events', { type: path, data: {} })).status).toBe(202);
    return created.json.id as string;
  }
  const attemptsAt = (path: string) => s.receiver.requests.filter((r) => r.path === path);

  it('waits as long as a 429 asks, in seconds or as an HTTP date, and the batch shows when it will try next', async () => {
    let seconds = 0;
    s.receiver.responder = (request) => {
      if (request.path === '/seconds' && ++seconds === 1) return { status: 429, headers: { 'retry-after': '3' } };
      if (request.path === '/date' && attemptsAt('/date').length === 1) {
        return { status: 503, headers: { 'retry-after': new Date(Date.now() + 4_000).toUTCString() } };
      }
      return 200;
    };
    const id = await subscribeAndPost('/seconds');
    await subscribeAndPost('/date');
    const first = await eventually(() => attemptsAt('/seconds')[0], 20_000, 'the first attempt');
    // While it waits, the batch says when the next attempt comes: about 3 s after the first.
    const pending = await eventually(async () => {
      const listed = (await s.api('GET', `/v1/partners/retry-after/subscriptions/${id}/batches`)).json.batches as { batchId: string }[];
      if (listed.length === 0) return undefined;
      const batch = (await s.api('GET', `/v1/batches/${listed[0]!.batchId}`)).json as { nextAttemptAt?: string; lastError?: string };
      return batch.nextAttemptAt ? batch : undefined;
    }, 10_000, 'the next attempt time');
    expect(Date.parse(pending.nextAttemptAt!) - first.receivedAt).toBeGreaterThanOrEqual(2_500);
    expect(pending.lastError).toContain('HTTP 429 from the endpoint (Retry-After: 3)');

    const second = await eventually(() => attemptsAt('/seconds')[1], 20_000, 'the retry');
    expect(second.receivedAt - first.receivedAt).toBeGreaterThanOrEqual(3_000);
    const dated = await eventually(() => (attemptsAt('/date').length >= 2 ? attemptsAt('/date') : undefined), 20_000, 'the dated retry');
    // An HTTP date has whole seconds: at least 3 s of the 4 asked remain after rounding down.
    expect(dated[1]!.receivedAt - dated[0]!.receivedAt).toBeGreaterThanOrEqual(3_000);
  });

  it('ignores a malformed or negative Retry-After: the schedule applies', async () => {
    s.receiver.responder = (request) => {
      const tries = attemptsAt(request.path).length;
      if (request.path === '/malformed' && tries === 1) return { status: 429, headers: { 'retry-after': 'in a while' } };
      if (request.path === '/negative' && tries === 1) return { status: 503, headers: { 'retry-after': '-30' } };
      return 200;
    };
    await subscribeAndPost('/malformed');
    await subscribeAndPost('/negative');
    for (const path of ['/malformed', '/negative']) {
      const [first, second] = await eventually(() => (attemptsAt(path).length >= 2 ? attemptsAt(path) : undefined), 20_000, `the retry at ${path}`);
      // The schedule's 2.5 ms, not the 30 s a negative value read as positive would ask: under 5 s
      // even when other test files load the machine.
      expect(second!.receivedAt - first!.receivedAt, path).toBeLessThan(5_000);
    }
  });

  it("carries what the asks cost from attempt to attempt, in the activity's heartbeat details", async () => {
    // A Retry-After of 1 s, under this scale's cap (24 h × 0.0001 = 8.64 s): honoured in full.
    s.receiver.responder = (request) => (request.path === '/always' ? { status: 429, headers: { 'retry-after': '1' } } : 200);
    const id = await subscribeAndPost('/always');
    await eventually(() => (attemptsAt('/always').length >= 3 ? true : undefined), 30_000, 'three attempts');
    const listed = (await s.api('GET', `/v1/partners/retry-after/subscriptions/${id}/batches`)).json.batches as { batchId: string }[];
    const description = await s.env.client.workflow.getHandle(`batch:${listed[0]!.batchId}`).describe();
    const pending = description.raw.pendingActivities?.[0];
    const payload = pending?.heartbeatDetails?.payloads?.[0];
    expect(payload).toBeDefined();
    const ledger = await decodePayload<{ extraMs: number; repaidMs: number }>(s.config.temporal.dataConverter, payload!);
    // Each of the (at least) two answered attempts added about 1 s beyond its scheduled wait.
    expect(ledger.extraMs).toBeGreaterThan(1_900);
    expect(ledger.repaidMs).toBe(0);
    const [first, second, third] = attemptsAt('/always');
    expect(second!.receivedAt - first!.receivedAt).toBeGreaterThanOrEqual(1_000);
    expect(third!.receivedAt - second!.receivedAt).toBeGreaterThanOrEqual(1_000);
  });
});
