import { createHash } from 'node:crypto';
import { defaultPayloadConverter } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { describe, expect, it } from 'vitest';
import type { Config } from '../../platform/config';
import type { BatchPayload } from '../../domain/payload';
import type { deliveryWorkflow, DeliveryWorkflowInput } from '../../workflows/delivery';
import { batchWorkflowId } from '../../workflows/ids';
import { eventsSignal, stateQuery } from '../../workflows/messages';
import { subscriptionIdKey } from '../../workflows/search-attributes';
import type { Receiver } from '../../harness/receiver';
import { useServerSuite } from '../support/suite';
import { makeEvent, startSubscription } from '../../harness/in-process';
import { eventually } from '../../harness/temporal';

/** The batching workflow against a real Temporal dev server, delivering to a real local receiver. */
describe('subscription workflow on a real Temporal server', () => {
  let env: TestWorkflowEnvironment;
  let config: Config;
  let receiver: Receiver;

  useServerSuite({}, (suite) => ({ env, config, receiver } = suite));

  const bodiesFor = (subscriptionPath: string) =>
    receiver.requests.filter((r) => r.path === subscriptionPath).map((r) => JSON.parse(r.body) as BatchPayload);

  it('cuts a batch as soon as the pending events reach maxEvents', async () => {
    const path = '/count';
    const { handle } = await startSubscription(env, config, {
      url: receiver.url(path),
      eventTypes: ['user.created'],
      batching: { windowMs: 60_000, maxEvents: 3 },
    });
    const events = [makeEvent(), makeEvent(), makeEvent(), makeEvent()];
    for (const event of events) await handle.signal(eventsSignal, { events: [event] });

    const [batch] = await eventually(() => (bodiesFor(path).length >= 1 ? bodiesFor(path) : undefined));
    expect(batch!.count).toBe(3);
    expect(batch!.events.map((e) => e.id)).toEqual(events.slice(0, 3).map((e) => e.id));
    // The fourth event waits for the next count or window: it is still pending, not sent.
    expect((await handle.query(stateQuery)).pendingEvents).toBe(1);
    expect(bodiesFor(path)).toHaveLength(1);
  });

  it('cuts a batch when windowMs has passed since the last batch was created', async () => {
    const path = '/window';
    const { handle, createdAt } = await startSubscription(env, config, {
      url: receiver.url(path),
      eventTypes: ['user.created'],
      batching: { windowMs: 1_000, maxEvents: 100 },
    });
    const events = [makeEvent(), makeEvent()];
    await handle.signal(eventsSignal, { events });

    const [batch] = await eventually(() => (bodiesFor(path).length >= 1 ? bodiesFor(path) : undefined));
    expect(batch!.events.map((e) => e.id)).toEqual(events.map((e) => e.id));
    // The window counts from the subscription's creation: the batch is not cut before it has passed.
    expect(Date.parse(batch!.timestamp) - Date.parse(createdAt)).toBeGreaterThanOrEqual(1_000);

    // An event arriving after a full window since the last cut goes out at once, in its own batch.
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    const late = makeEvent();
    await handle.signal(eventsSignal, { events: [late] });
    const bodies = await eventually(() => (bodiesFor(path).length >= 2 ? bodiesFor(path) : undefined));
    expect(bodies[1]!.events.map((e) => e.id)).toEqual([late.id]);
    expect(Date.parse(bodies[1]!.timestamp) - Date.parse(batch!.timestamp)).toBeGreaterThanOrEqual(1_000);
  });

  it('never cuts an empty batch', async () => {
    const path = '/empty';
    const { handle, subscriptionId } = await startSubscription(env, config, {
      url: receiver.url(path),
      eventTypes: ['user.created'],
      batching: { windowMs: 1_000, maxEvents: 100 },
    });
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    await handle.signal(eventsSignal, { events: [makeEvent()] });
    await eventually(() => (bodiesFor(path).length >= 1 ? true : undefined));
    // Three more windows pass with nothing pending.
    await new Promise((resolve) => setTimeout(resolve, 3_000));

    expect(bodiesFor(path)).toHaveLength(1);
    const started = await env.client.workflow.count(
      `WorkflowType = 'deliveryWorkflow' AND ${subscriptionIdKey.name} = '${subscriptionId}'`,
    );
    expect(started.count).toBe(1);
    expect((await handle.query(stateQuery)).pendingEvents).toBe(0);
  });

  it("records the exact payload in the batch workflow's history and sends those bytes on every attempt", async () => {
    const path = '/retry';
    receiver.responder = (_request, index) => (index < 2 ? 500 : 200);
    const { handle } = await startSubscription(env, config, {
      url: receiver.url(path),
      eventTypes: ['user.created'],
      batching: { windowMs: 1_000, maxEvents: 2 },
    });
    await handle.signal(eventsSignal, { events: [makeEvent('user.created', { emoji: 'ü 🚀' }), makeEvent()] });

    const attempts = await eventually(() => (receiver.requests.length >= 3 ? receiver.requests : undefined));
    const batchId = (JSON.parse(attempts[0]!.body) as BatchPayload).batch_id;
    expect(new Set(attempts.map((a) => a.sha256)).size).toBe(1);

    const batch = env.client.workflow.getHandle<typeof deliveryWorkflow>(batchWorkflowId(batchId));
    const result = await batch.result();
    expect(result).toMatchObject({ attempts: 3, status: 200 });
    const history = await batch.fetchHistory();
    const payloads = history.events![0]!.workflowExecutionStartedEventAttributes!.input!.payloads!;
    const input = defaultPayloadConverter.fromPayload<DeliveryWorkflowInput>(payloads[0]!);
    expect(createHash('sha256').update(input.body).digest('hex')).toBe(attempts[0]!.sha256);
  });

  it('continues as new before the history grows large, carrying pending events and the dedupe window', async () => {
    const path = '/continue';
    const { handle } = await startSubscription(
      env,
      config,
      { url: receiver.url(path), eventTypes: ['user.created'], batching: { windowMs: 60_000, maxEvents: 5 } },
      { limits: { signals: 3 } },
    );
    const firstRunId = (await handle.describe()).runId;
    const events = [makeEvent(), makeEvent(), makeEvent(), makeEvent()];
    for (const event of events) await handle.signal(eventsSignal, { events: [event] });
    // The fourth signal lands in the new run; re-posting an event from the old run is dropped.
    await eventually(async () => ((await handle.describe()).runId !== firstRunId ? true : undefined), 20_000, 'continue-as-new');
    await handle.signal(eventsSignal, { events: [events[0]!, makeEvent()] });

    const [batch] = await eventually(() => (bodiesFor(path).length >= 1 ? bodiesFor(path) : undefined));
    expect(batch!.events.map((e) => e.id)).toEqual([...events.map((e) => e.id), batch!.events[4]!.id]);
    expect(batch!.events[4]!.id).not.toBe(events[0]!.id);
    const firstRun = env.client.workflow.getHandle(handle.workflowId, firstRunId);
    expect((await firstRun.describe()).status.name).toBe('CONTINUED_AS_NEW');
  });

  it('hands a run over once its history reaches shorterRunEvents, recording the patch that allows it', async () => {
    const path = '/shorter-runs';
    const { handle } = await startSubscription(
      env,
      config,
      // The loop looks at the run's length when it wakes: every second event cuts a batch and wakes it.
      { url: receiver.url(path), eventTypes: ['user.created'], batching: { windowMs: 60_000, maxEvents: 2 } },
      { limits: { shorterRunEvents: 30 } },
    );
    const firstRunId = (await handle.describe()).runId;
    for (let i = 0; i < 20 && (await handle.describe()).runId === firstRunId; i++) await handle.signal(eventsSignal, { events: [makeEvent()] });
    await eventually(async () => ((await handle.describe()).runId !== firstRunId ? true : undefined), 20_000, 'continue-as-new');
    const firstRun = await env.client.workflow.getHandle(handle.workflowId, firstRunId).fetchHistory();
    const markers = firstRun.events!.filter((event) => event.markerRecordedEventAttributes?.markerName === 'core_patch');
    expect(markers.map((event) => defaultPayloadConverter.fromPayload(event.markerRecordedEventAttributes!.details!['patch-data']!.payloads![0]!))).toContainEqual(
      expect.objectContaining({ id: 'shorter-runs-2000-events' }),
    );
    // The patch is asked only once the run is 30 events long, so its marker comes after the 30th
    // event; the hand-over follows within the signals still arriving (at most 20 in all), far below
    // the 8,000 events of runs recorded before the patch. How many of those land before the
    // hand-over depends on the machine's load, so the bound is what 20 signals can make at most.
    const shorterRunsMarker = markers.find((event) => defaultPayloadConverter.fromPayload<{ id: string }>(event.markerRecordedEventAttributes!.details!['patch-data']!.payloads![0]!).id === 'shorter-runs-2000-events')!;
    expect(Number(shorterRunsMarker.eventId)).toBeGreaterThan(30);
    expect(firstRun.events!.length).toBeLessThan(200);
  });
});
