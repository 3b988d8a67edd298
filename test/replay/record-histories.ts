/**
 * Records the representative histories replayed in CI (test/replay/histories/*.json): a count
 * cut, a window cut, a continue-as-new, a retried and a failed delivery. Run it again after a
 * deliberate, versioned change to the workflows: `npx tsx test/replay/record-histories.ts`.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { eventsSignal } from '../../workflows/messages';
import { batchWorkflowId } from '../../workflows/ids';
import { createTestWorker, makeEvent, startSubscription, testConfig } from '../support/harness';
import { Receiver } from '../support/receiver';
import { eventually, startDevServer, temporalCliPath } from '../support/temporal';

const out = new URL('./histories/', import.meta.url);

async function main(): Promise<void> {
  const env = await startDevServer();
  const config = testConfig({ DELIVERY_BACKOFF_SCALE: '0.00001' });
  const worker = await createTestWorker(env, config);
  const receiver = await Receiver.start();
  const save = async (name: string, workflowId: string, runId?: string) => {
    // The Temporal CLI's JSON export: the same format an engineer downloads from the Web UI.
    const json = execFileSync(temporalCliPath, ['workflow', 'show', '--address', env.address, '-w', workflowId, ...(runId ? ['-r', runId] : []), '--output', 'json'], { encoding: 'utf8' });
    writeFileSync(new URL(`${name}.json`, out), json);
    console.log(`recorded ${name} (${(JSON.parse(json) as { events: unknown[] }).events.length} events)`);
  };
  const batchIdAt = (path: string, index = 0) =>
    eventually(() => {
      const found = receiver.requests.filter((r) => r.path === path)[index];
      return found ? (JSON.parse(found.body) as { batch_id: string }).batch_id : undefined;
    });

  await worker.runUntil(async () => {
    // A count cut (maxEvents 2), then the workflow waiting for more.
    const count = await startSubscription(env, config, { url: receiver.url('/count'), eventTypes: ['t'], batching: { windowMs: 60_000, maxEvents: 2 } });
    await count.handle.signal(eventsSignal, { events: [makeEvent('t'), makeEvent('t')] });
    await batchIdAt('/count');
    await save('subscription-count-cut', count.handle.workflowId);

    // A window cut.
    const window = await startSubscription(env, config, { url: receiver.url('/window'), eventTypes: ['t'], batching: { windowMs: 1_000, maxEvents: 100 } });
    await window.handle.signal(eventsSignal, { events: [makeEvent('t')] });
    await batchIdAt('/window');
    await save('subscription-window-cut', window.handle.workflowId);

    // A run that continued as new (after 3 signals).
    const cont = await startSubscription(env, config, { url: receiver.url('/continue'), eventTypes: ['t'], batching: { windowMs: 60_000, maxEvents: 100 } }, { limits: { signals: 3 } });
    const firstRun = (await cont.handle.describe()).runId;
    for (let i = 0; i < 3; i++) await cont.handle.signal(eventsSignal, { events: [makeEvent('t')] });
    await eventually(async () => ((await cont.handle.describe()).runId !== firstRun ? true : undefined));
    await save('subscription-continued-as-new', cont.handle.workflowId, firstRun);

    // A delivery retried twice before it succeeded.
    receiver.responder = (request) => (request.path === '/retried' && receiver.requests.filter((r) => r.path === '/retried').length <= 2 ? 503 : 200);
    const retried = await startSubscription(env, config, { url: receiver.url('/retried'), eventTypes: ['t'], batching: { windowMs: 60_000, maxEvents: 1 } });
    await retried.handle.signal(eventsSignal, { events: [makeEvent('t')] });
    const retriedBatch = await batchIdAt('/retried');
    await env.client.workflow.getHandle(batchWorkflowId(retriedBatch)).result();
    await save('delivery-retried', batchWorkflowId(retriedBatch));

    // A delivery that failed after 26 attempts.
    const failing = await startSubscription(env, config, { url: receiver.url('/failed'), eventTypes: ['t'], batching: { windowMs: 60_000, maxEvents: 1 } });
    receiver.responder = (request) => (request.path === '/failed' ? 500 : 200);
    await failing.handle.signal(eventsSignal, { events: [makeEvent('t')] });
    const failedBatch = await batchIdAt('/failed');
    await env.client.workflow.getHandle(batchWorkflowId(failedBatch)).result().catch(() => undefined);
    await save('delivery-failed', batchWorkflowId(failedBatch));
  });
  await receiver.close();
  await env.teardown();
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
