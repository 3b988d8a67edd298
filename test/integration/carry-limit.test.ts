import { Connection } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import proto from '@temporalio/proto';
import type { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../platform/config';
import type { BatchPayload } from '../../domain/payload';
import { eventsSignal } from '../../workflows/messages';
import { createTestWorker, makeEvent, startSubscription, testConfig } from '../../harness/in-process';
import { Receiver } from '../../harness/receiver';
import { eventually, startDevServer } from '../../harness/temporal';

const { EventType } = proto.temporal.api.enums.v1;
type HistoryEvent = proto.temporal.api.history.v1.IHistoryEvent;

/**
 * A backlog that lands while a subscription waits for its child starts, when its run is due to
 * continue as new, must be cut into batches before the hand-over. Carried whole, it made a
 * continue-as-new command over Temporal's 2 MB payload limit: every workflow task failed with
 * PAYLOADS_TOO_LARGE from then on, and the subscription accepted events it never delivered (seen
 * in `npm run bench`, producers posting arrays of 100 at 5,000 events/s).
 */
describe('a backlog when a run is due to continue as new', () => {
  let env: TestWorkflowEnvironment;
  let config: Config;
  let worker: Worker;
  let running: Promise<void>;
  let receiver: Receiver;

  beforeAll(async () => {
    env = await startDevServer();
    config = testConfig();
    worker = await createTestWorker(env, config);
    running = worker.run();
    receiver = await Receiver.start();
  });

  afterAll(async () => {
    worker?.shutdown();
    await running;
    await receiver?.close();
    await env?.teardown();
  });

  /**
   * A run's history in small pages, over a connection that takes 64 MB messages: a burst's run holds
   * far more than gRPC's default 4 MB, and the server returns whole stored batches of events (a
   * page of 5 can hold 20 buffered 250 KB signals).
   */
  async function historyOf(workflowId: string, runId: string): Promise<HistoryEvent[]> {
    const connection = await Connection.connect({ address: env.address, channelArgs: { 'grpc.max_receive_message_length': 64 * 2 ** 20 } });
    try {
      const events: HistoryEvent[] = [];
      let nextPageToken: Uint8Array | undefined;
      do {
        const page = await connection.workflowService.getWorkflowExecutionHistory({ namespace: config.temporal.namespace, execution: { workflowId, runId }, nextPageToken, maximumPageSize: 5 });
        events.push(...(page.history?.events ?? []));
        nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
      } while (nextPageToken);
      return events;
    } finally {
      await connection.close();
    }
  }

  /** The patch marker the workflow records when a due hand-over had to cut a backlog first. */
  const cutFirst = (event: HistoryEvent) =>
    event.eventType === EventType.EVENT_TYPE_MARKER_RECORDED &&
    Object.values(event.markerRecordedEventAttributes?.details ?? {}).some((payloads) => (payloads.payloads ?? []).some((p) => Buffer.from(p.data ?? []).toString().includes('cut-before-carrying-over')));

  it('is cut into batches before the hand-over, a bounded number per workflow task, and every event is delivered once', { timeout: 300_000 }, async () => {
    // Concurrent senders of ~250 KB signals, the run due every 10 signals: some hand-over finds
    // more than a batch's worth pending. The patch marker shows it did; if none had, try again.
    for (let attempt = 1; attempt <= 5; attempt++) {
      const path = `/carry-${attempt}`;
      const { handle } = await startSubscription(
        env,
        config,
        { url: receiver.url(path), eventTypes: ['t'], batching: { windowMs: 60_000, maxEvents: 1_000 } },
        { limits: { signals: 10 } },
      );
      const sent = Array.from({ length: 12 }, () => Array.from({ length: 4 }, () => Array.from({ length: 25 }, () => makeEvent('t', { blob: 'x'.repeat(10_000) }))));
      await Promise.all(sent.map(async (signals) => {
        for (const events of signals) await handle.signal(eventsSignal, { events });
      }));
      const ids = sent.flat(2).map((event) => event.id);
      const delivered = await eventually(() => {
        const received = receiver.requests.filter((r) => r.path === path).flatMap((r) => (JSON.parse(r.body) as BatchPayload).events.map((e) => e.id));
        return received.length >= ids.length ? received : undefined;
      }, 90_000, 'every event delivered');
      expect(delivered.length).toBe(ids.length);
      expect(new Set(delivered)).toEqual(new Set(ids));

      const runs: HistoryEvent[][] = [];
      for await (const run of env.client.workflow.list({ query: `WorkflowId = '${handle.workflowId}'` })) runs.push(await historyOf(handle.workflowId, run.runId));
      const failures = runs.flat().filter((e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED);
      expect(failures.map((e) => proto.temporal.api.enums.v1.WorkflowTaskFailedCause[e.workflowTaskFailedEventAttributes?.cause ?? 0])).not.toContain('WORKFLOW_TASK_FAILED_CAUSE_PAYLOADS_TOO_LARGE');
      if (runs.some((history) => history.some(cutFirst))) return;
    }
    throw new Error('no hand-over met a backlog in 5 tries: the case was not exercised');
  });
});
