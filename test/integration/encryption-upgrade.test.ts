import { Client } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newKeyEntry } from '../../codec/key-ring';
import type { Config } from '../../platform/config';
import { subscriptionWorkflowId } from '../../workflows/ids';
import { apiFor } from '../../harness/api';
import { createTestWorker, testConfig } from '../../harness/in-process';
import { Receiver } from '../../harness/receiver';
import { eventually, startDevServer, workflowBundle } from '../../harness/temporal';

/**
 * Turning encryption on under a running deployment, on a real dev server: a subscription created
 * and fed in clear goes on working once the worker and the API have keys (its history then holds
 * both), its old batch still reads, and its mixed history replays. Then a key rotation, the same.
 */
describe('turning payload encryption on, then rotating the key, under running subscriptions', () => {
  let env: TestWorkflowEnvironment;
  let receiver: Receiver;
  const taskQueue = `upgrade-${Date.now()}`;
  const first = newKeyEntry('first');
  const second = newKeyEntry('second');

  beforeAll(async () => {
    env = await startDevServer();
    receiver = await Receiver.start();
  });
  afterAll(async () => {
    await receiver?.close();
    await env?.teardown();
  });

  /** The API and a worker with this configuration, for as long as `body` runs. */
  async function withStack<T>(config: Config, body: (api: ReturnType<typeof apiFor>) => Promise<T>): Promise<T> {
    const worker = await createTestWorker(env, config);
    const client = new Client({ connection: env.connection, dataConverter: config.temporal.dataConverter });
    return worker.runUntil(body(apiFor(client, config)));
  }
  const post = async (api: ReturnType<typeof apiFor>, n: number) => {
    expect((await api('POST', '/v1/partners/upgrading/events', { type: 'order.paid', data: { n } })).status).toBe(202);
    const request = await eventually(() => receiver.requests.find((r) => JSON.parse(r.body).events[0].data.n === n), 20_000, `event ${n}`);
    return JSON.parse(request.body).batch_id as string;
  };
  /**
   * A batch once its delivery is recorded. The receiver sees the POST before the child workflow
   * records the attempt, and a stack may stop in between: the next stack's worker finishes it.
   */
  const deliveredBatch = (api: ReturnType<typeof apiFor>, batchId: string) =>
    eventually(async () => {
      const found = await api('GET', `/v1/batches/${batchId}`);
      return found.json.status === 'delivered' ? found.json : undefined;
    }, 20_000, `batch ${batchId} delivered`);

  it('keeps delivering, reads old batches and replays mixed histories', async () => {
    const plain = testConfig({ TEMPORAL_TASK_QUEUE: taskQueue });
    const encrypted = testConfig({ TEMPORAL_TASK_QUEUE: taskQueue, PAYLOAD_KEYS: first });
    const rotated = testConfig({ TEMPORAL_TASK_QUEUE: taskQueue, PAYLOAD_KEYS: `${second},${first}` });

    const { subscriptionId, batchInClear } = await withStack(plain, async (api) => {
      const created = await api('POST', '/v1/partners/upgrading/subscriptions', { url: receiver.url('/upgrading'), eventTypes: ['order.paid'], batching: { maxEvents: 1 } });
      expect(created.status).toBe(201);
      return { subscriptionId: created.json.id as string, batchInClear: await post(api, 1) };
    });

    await withStack(encrypted, async (api) => {
      await post(api, 2);
      expect(await deliveredBatch(api, batchInClear)).toMatchObject({ payload: { events: [{ data: { n: 1 } }] } });
      expect((await api('GET', `/v1/partners/upgrading/subscriptions/${subscriptionId}`)).json).toMatchObject({ url: receiver.url('/upgrading') });
    });

    await withStack(rotated, async (api) => {
      const batchUnderSecond = await post(api, 3);
      expect(await deliveredBatch(api, batchUnderSecond)).toMatchObject({ payload: { events: [{ data: { n: 3 } }] } });
      expect(await deliveredBatch(api, batchInClear)).toMatchObject({ payload: { events: [{ data: { n: 1 } }] } });
    });

    // The subscription's history: started in clear, then signals under key "first", then "second".
    const handle = env.client.workflow.getHandle(subscriptionWorkflowId('upgrading', subscriptionId));
    const history = await handle.fetchHistory();
    const keyIds = new Set(
      (history.events ?? []).flatMap((event) =>
        (event.workflowExecutionSignaledEventAttributes?.input?.payloads ?? []).map((p) => Buffer.from(p.metadata?.['encryption-key-id'] ?? 'clear').toString()),
      ),
    );
    expect([...keyIds].sort()).toEqual(['clear', 'first', 'second']);
    await expect(Worker.runReplayHistory({ workflowBundle: await workflowBundle(), dataConverter: rotated.temporal.dataConverter }, history, 'mixed')).resolves.toBeUndefined();
    // Without the retired key, the same history cannot be replayed: the ring must keep it.
    await expect(
      Worker.runReplayHistory({ workflowBundle: await workflowBundle(), dataConverter: testConfig({ PAYLOAD_KEYS: second }).temporal.dataConverter }, history, 'missing-key'),
    ).rejects.toThrow(/encrypted with key first, which is not in the key ring/);
  });
});
