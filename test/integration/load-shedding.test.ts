import { randomUUID } from 'node:crypto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApp } from '../../api/app';
import type { Config } from '../../platform/config';
import type { BatchPayload } from '../../domain/payload';
import { sleep } from '../../harness/processes';
import { createTestWorker, testConfig } from '../../harness/in-process';
import type { Receiver } from '../../harness/receiver';
import { startStack, type Stack } from '../../harness/stack';
import { eventually } from '../../harness/temporal';
import { HARNESS_TOKEN } from '../../harness/token';

/**
 * Load shedding (INGEST_SHED_AFTER_MS) against a real dev server that the test freezes with
 * SIGSTOP: a request to a subscription whose events Temporal has not recorded for longer than the
 * limit is refused at once with 503 and Retry-After, acknowledging nothing, instead of queueing
 * behind the stalled signal; once Temporal answers again, the same request is accepted and every
 * accepted event is delivered exactly once.
 */

describe('load shedding', () => {
  let stack: Stack;
  let env: TestWorkflowEnvironment;
  let worker: Worker;
  let running: Promise<void>;
  let receiver: Receiver;
  let app: ReturnType<typeof createApp>;
  let config: Config;
  /** Freezes (SIGSTOP) or thaws (SIGCONT) the dev server's process. */
  const server = { kill: (signal: 'SIGSTOP' | 'SIGCONT') => stack?.devServer?.current?.child.kill(signal) };

  beforeAll(async () => {
    // Only the dev server runs as its own process here: the worker and the API run in this one.
    stack = await startStack({ workers: 0, apis: 0 });
    receiver = stack.receiver;
    env = await TestWorkflowEnvironment.createFromExistingServer({ address: stack.address });
    config = testConfig({ INGEST_SHED_AFTER_MS: '300' });
    worker = await createTestWorker(env, config);
    running = worker.run();
    app = createApp({ client: env.client, config, tokens: [{ role: 'admin', token: HARNESS_TOKEN }] });
  });

  afterAll(async () => {
    server.kill('SIGCONT');
    worker?.shutdown();
    await running;
    await env?.teardown();
    await stack?.stop();
  });

  const post = (path: string, body: unknown) =>
    app.request(path, { method: 'POST', headers: { authorization: `Bearer ${HARNESS_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });

  it('refuses events for a subscription behind a stalled signal with 503 and Retry-After, then accepts their retry once', async () => {
    const [warm, stalledId, shed1, shed2] = [randomUUID(), randomUUID(), randomUUID(), randomUUID()];
    const created = await post('/v1/partners/shed/subscriptions', { url: receiver.url('/shed'), eventTypes: ['t'], batching: { windowMs: 1_000, maxEvents: 100 } });
    expect(created.status).toBe(201);
    // A first event warms the routing table and shows the path works.
    expect((await post('/v1/partners/shed/events', { id: warm, type: 't', data: {} })).status).toBe(202);

    server.kill('SIGSTOP');
    let stalledAnswer: number | undefined;
    const stalled = Promise.resolve(post('/v1/partners/shed/events', { id: stalledId, type: 't', data: {} })).then((response) => (stalledAnswer = response.status));
    // Past INGEST_SHED_AFTER_MS with the signal carrying 'stalled' unanswered.
    await sleep(600);
    const refused = await post('/v1/partners/shed/events', [
      { id: shed1, type: 't', data: {} },
      { id: shed2, type: 't', data: {} },
    ]);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(refused.headers.get('content-type')).toBe('application/problem+json');
    expect(((await refused.json()) as { detail: string }).detail).toMatch(/is behind.*nothing of this request is acknowledged/);
    // Refused while the stalled request still waits: shedding does not queue behind it.
    expect(stalledAnswer).toBeUndefined();

    server.kill('SIGCONT');
    await stalled;
    expect(stalledAnswer).toBe(202);
    const retried = await post('/v1/partners/shed/events', [
      { id: shed1, type: 't', data: {} },
      { id: shed2, type: 't', data: {} },
    ]);
    expect(retried.status).toBe(202);

    const delivered = await eventually(() => {
      const ids = receiver.requests.flatMap((request) => (JSON.parse(request.body) as BatchPayload).events.map((event) => event.id));
      return ids.length >= 4 ? ids : undefined;
    });
    // Give a wrongly queued copy time to arrive in a later window before counting.
    await sleep(2_000);
    const all = receiver.requests.flatMap((request) => (JSON.parse(request.body) as BatchPayload).events.map((event) => event.id));
    expect(new Set(delivered)).toEqual(new Set([warm, stalledId, shed1, shed2]));
    expect(all.sort()).toEqual([warm, stalledId, shed1, shed2].sort());
  });

  it('refuses events past its admission limit with 503 and Retry-After while Temporal is behind, then admits their retry; nothing is lost or doubled', async () => {
    // Only the admission limit: the per-subscription shedding is off here.
    const admitting = createApp({ client: env.client, config: { ...config, ingest: { ...config.ingest, admissionTargetMs: 200, shedAfterMs: Infinity } }, tokens: [{ role: 'admin', token: HARNESS_TOKEN }] });
    const send = (path: string, body: unknown) =>
      admitting.request(path, { method: 'POST', headers: { authorization: `Bearer ${HARNESS_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const paths = ['/admit-a', '/admit-b', '/admit-c'];
    for (const path of paths) {
      const created = await send('/v1/partners/admit/subscriptions', { url: receiver.url(path), eventTypes: [path], batching: { windowMs: 1_000, maxEvents: 100 } });
      expect(created.status).toBe(201);
    }
    const eventsFor = (type: string) => Array.from({ length: 30 }, () => ({ id: randomUUID(), type, data: {} }));
    const [a, b, c] = paths.map(eventsFor);
    expect((await send('/v1/partners/admit/events', { type: '/admit-a', data: {} })).status).toBe(202);

    server.kill('SIGSTOP');
    const answers: number[] = [];
    const waiting = [a, b].map((events) => Promise.resolve(send('/v1/partners/admit/events', events)).then((response) => answers.push(response.status)));
    // 60 events in flight, unanswered past twice the 200 ms target (a stall): the limit drops to its floor (50).
    await sleep(700);
    const refused = await send('/v1/partners/admit/events', c);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('1');
    expect(((await refused.json()) as { detail: string }).detail).toMatch(/limit of events in flight.*nothing of this request is acknowledged/);
    expect(answers).toEqual([]);

    server.kill('SIGCONT');
    await Promise.all(waiting);
    expect(answers).toEqual([202, 202]);
    expect((await send('/v1/partners/admit/events', c)).status).toBe(202);

    const ids = (path: string) => receiver.requests.filter((r) => r.path === path).flatMap((r) => (JSON.parse(r.body) as BatchPayload).events.map((event) => event.id));
    await eventually(() => (ids('/admit-c').length >= 30 && ids('/admit-b').length >= 30 ? true : undefined));
    await sleep(2_000);
    expect(ids('/admit-b').sort()).toEqual(b!.map((event) => event.id).sort());
    expect(ids('/admit-c').sort()).toEqual(c!.map((event) => event.id).sort());
  });
});
