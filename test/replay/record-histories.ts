/**
 * Adds histories of representative runs, recorded from the current workflow code, to the replay
 * corpus (test/replay/histories/<commit>/<scenario>.json), replayed in CI by replay.test.ts:
 *
 *   npx tsx test/replay/record-histories.ts [scenario…]
 *
 * With scenario names (count, window, continue, shorter-run, burst, handover, updated, retried, gate-released,
 * gate-exhausted, event-type, rotate-secret, recovery), only those: a commit that changed one workflow records that one.
 * The corpus only grows. A folder is named after the commit whose workflow code recorded it, so
 * the workflow code must be committed first; an existing folder is never written again. Old
 * histories are what prove that runs started by old code still replay on the new.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { eventsSignal } from '../../workflows/messages';
import { batchWorkflowId, eventTypeWorkflowId, recoveryWorkflowId, subscriptionWorkflowId } from '../../workflows/ids';
import { apiFor } from '../../harness/api';
import { manifestPath, patchesIn, readManifest, SCENARIO_PINS, workflowTypeOf, type ExportedHistory } from './corpus';
import { createTestWorker, makeEvent, startSubscription, testConfig } from '../../harness/in-process';
import { Receiver } from '../../harness/receiver';
import { eventually, startDevServer, temporalCliPath } from '../../harness/temporal';

const SCENARIOS = ['count', 'window', 'continue', 'shorter-run', 'burst', 'handover', 'updated', 'retried', 'gate-released', 'gate-exhausted', 'event-type', 'rotate-secret', 'recovery'];
const root = fileURLToPath(new URL('../../', import.meta.url));
const git = (...args: string[]) => execFileSync('git', args, { cwd: root, encoding: 'utf8' }).trim();

async function main(): Promise<void> {
  if (git('status', '--porcelain', '--', 'workflows', 'domain')) {
    throw new Error('workflows/ or domain/ has uncommitted changes: commit them first, since a history is named after the commit whose code recorded it');
  }
  const commit = git('rev-parse', '--short=7', 'HEAD');
  const wanted = process.argv.slice(2);
  const unknown = wanted.filter((name) => !SCENARIOS.includes(name));
  if (unknown.length > 0) throw new Error(`no scenario ${unknown.join(', ')}; the scenarios: ${SCENARIOS.join(', ')}`);
  const want = (scenario: string) => wanted.length === 0 || wanted.includes(scenario);
  const out = new URL(`./histories/${commit}/`, import.meta.url);
  if (existsSync(out)) throw new Error(`${fileURLToPath(out)} exists: the corpus only grows, and a commit records once`);

  const env = await startDevServer();
  // Retries 100,000 times faster: 26 attempts in about 26 s.
  const config = testConfig({ DELIVERY_BACKOFF_SCALE: '0.00001' });
  const worker = await createTestWorker(env, config);
  const receiver = await Receiver.start();
  const api = apiFor(env.client, config);
  const recorded: [string, string, string | undefined][] = [];
  const record = (name: string, workflowId: string, runId?: string) => recorded.push([name, workflowId, runId]);
  const requestsAt = (path: string) => receiver.requests.filter((r) => r.path === path);
  const batchIdAt = (path: string, index = 0) =>
    eventually(() => {
      const found = requestsAt(path)[index];
      return found ? (JSON.parse(found.body) as { batch_id: string }).batch_id : undefined;
    }, 60_000, `request ${index} at ${path}`);
  // Paths whose endpoint is down (503), and how many requests each path had answered 200.
  const downPaths = new Set<string>();
  const accepted = new Map<string, number>();
  let retries = 0;
  receiver.responder = (request) => {
    if (downPaths.has(request.path) || (request.path === '/retried' && ++retries <= 2)) return 503;
    accepted.set(request.path, (accepted.get(request.path) ?? 0) + 1);
    return 200;
  };

  /** A subscription created through the API (one event a batch) and its helpers. */
  async function subscribe(partnerId: string, path: string, batching = { windowMs: 1_000, maxEvents: 1 }) {
    const created = await api('POST', `/v1/partners/${partnerId}/subscriptions`, { url: receiver.url(path), eventTypes: ['t'], batching });
    if (created.status !== 201) throw new Error(`creating ${partnerId}: ${created.status}`);
    const id = created.json.id as string;
    const read = async () => (await api('GET', `/v1/partners/${partnerId}/subscriptions/${id}`)).json;
    const post = async () => {
      if ((await api('POST', `/v1/partners/${partnerId}/events`, { type: 't', data: {} })).status !== 202) throw new Error('posting');
    };
    return { id, workflowId: subscriptionWorkflowId(partnerId, id), read, post };
  }

  /** The Temporal CLI's JSON export of a run: the same format an engineer downloads from the Web UI. */
  const exportHistory = (workflowId: string, runId?: string) =>
    execFileSync(temporalCliPath, ['workflow', 'show', '--address', env.address, '-w', workflowId, ...(runId ? ['-r', runId] : []), '--output', 'json'], { encoding: 'utf8', maxBuffer: 64 * 2 ** 20 });

  // A burst, queued before the worker polls, for a run already due to continue as new: its first
  // workflow task meets ~1.7 MB of events at once. It cuts batches until a pass holds
  // TASK_CUT_LIMIT_BYTES (patch bounded-child-starts-per-task), and, with more than a batch's worth
  // still pending when the hand-over comes, cuts them first (patch cut-before-carrying-over).
  const burst = want('burst')
    ? await (async () => {
        const sub = await startSubscription(env, config, { url: receiver.url('/burst'), eventTypes: ['t'], batching: { windowMs: 60_000, maxEvents: 1_000 } }, { limits: { signals: 5 } });
        const firstRun = (await sub.handle.describe()).runId;
        for (let i = 0; i < 7; i++) {
          await sub.handle.signal(eventsSignal, { events: Array.from({ length: 16 }, () => makeEvent('t', { blob: 'x'.repeat(15_000) })) });
        }
        return { workflowId: sub.handle.workflowId, firstRun };
      })()
    : undefined;

  await worker.runUntil(async () => {
    if (burst) {
      await eventually(async () => ((await env.client.workflow.getHandle(burst.workflowId).describe()).runId !== burst.firstRun ? true : undefined), 60_000, 'the burst run to hand over');
      const patches = patchesIn(JSON.parse(exportHistory(burst.workflowId, burst.firstRun)) as ExportedHistory);
      for (const patch of ['bounded-child-starts-per-task', 'cut-before-carrying-over']) {
        if (!patches.includes(patch)) throw new Error(`the burst run did not record the patch ${patch} (it recorded ${patches.join(', ') || 'none'}): the case was not exercised`);
      }
      record('subscription-burst-cut-before-hand-over', burst.workflowId, burst.firstRun);
    }

    if (want('count')) {
      // A count cut, then the workflow waiting for more.
      const count = await startSubscription(env, config, { url: receiver.url('/count'), eventTypes: ['t'], batching: { windowMs: 60_000, maxEvents: 2 } });
      await count.handle.signal(eventsSignal, { events: [makeEvent('t'), makeEvent('t')] });
      await batchIdAt('/count');
      record('subscription-count-cut', count.handle.workflowId);
    }

    if (want('window')) {
      // A window cut.
      const window = await startSubscription(env, config, { url: receiver.url('/window'), eventTypes: ['t'], batching: { windowMs: 1_000, maxEvents: 100 } });
      await window.handle.signal(eventsSignal, { events: [makeEvent('t')] });
      await batchIdAt('/window');
      record('subscription-window-cut', window.handle.workflowId);
    }

    if (want('continue')) {
      // A run that continued as new (after 3 signals).
      const cont = await startSubscription(env, config, { url: receiver.url('/continue'), eventTypes: ['t'], batching: { windowMs: 60_000, maxEvents: 100 } }, { limits: { signals: 3 } });
      const firstRun = (await cont.handle.describe()).runId;
      for (let i = 0; i < 3; i++) await cont.handle.signal(eventsSignal, { events: [makeEvent('t')] });
      await eventually(async () => ((await cont.handle.describe()).runId !== firstRun ? true : undefined));
      record('subscription-continued-as-new', cont.handle.workflowId, firstRun);
    }

    if (want('shorter-run')) {
      // A run that handed over at RunLimits.shorterRunEvents (lowered to 30): its patch marker recorded.
      const short = await startSubscription(env, config, { url: receiver.url('/shorter-run'), eventTypes: ['t'], batching: { windowMs: 60_000, maxEvents: 2 } }, { limits: { shorterRunEvents: 30 } });
      const firstRun = (await short.handle.describe()).runId;
      for (let i = 0; i < 20 && (await short.handle.describe()).runId === firstRun; i++) await short.handle.signal(eventsSignal, { events: [makeEvent('t')] });
      await eventually(async () => ((await short.handle.describe()).runId !== firstRun ? true : undefined));
      record('subscription-shorter-run', short.handle.workflowId, firstRun);
    }

    if (want('handover')) {
      // A run that continued as new as soon as its child start settled, with a batch's worth of
      // events still pending: under a stream there is always another batch to cut, so a run due to
      // continue hands over first (domain/subscription-step.ts, rule 1). The second signal must
      // arrive while the first batch's child start is in flight (a few milliseconds after the
      // first, here): tried at growing delays until it does.
      const handedOver = await (async () => {
        for (let attempt = 1; attempt <= 20; attempt++) {
          const sub = await startSubscription(env, config, { url: receiver.url('/handover'), eventTypes: ['t'], batching: { windowMs: 60_000, maxEvents: 2 } }, { limits: { batches: 1 } });
          const run = (await sub.handle.describe()).runId;
          await sub.handle.signal(eventsSignal, { events: [makeEvent('t'), makeEvent('t')] });
          await new Promise((resolve) => setTimeout(resolve, 3 * attempt));
          await sub.handle.signal(eventsSignal, { events: [makeEvent('t'), makeEvent('t')] });
          await eventually(async () => ((await sub.handle.describe()).runId !== run ? true : undefined));
          const events = (await env.client.workflow.getHandle(sub.handle.workflowId, run).fetchHistory()).events ?? [];
          const signals = events.filter((e) => e.workflowExecutionSignaledEventAttributes).length;
          const childStarts = events.filter((e) => e.startChildWorkflowExecutionInitiatedEventAttributes).length;
          if (signals === 2 && childStarts === 1) return { workflowId: sub.handle.workflowId, run };
        }
        throw new Error('the second signal never arrived while the first child start was in flight');
      })();
      record('subscription-continued-as-new-after-child-start', handedOver.workflowId, handedOver.run);
    }

    if (want('updated')) {
      // Updated (configure), then deleted: the last batch cut, the workflow completed.
      const updated = await subscribe('replay-updated', '/updated', { windowMs: 60_000, maxEvents: 100 });
      await api('PATCH', `/v1/partners/replay-updated/subscriptions/${updated.id}`, { batching: { maxEvents: 50 }, eventTypes: ['t', 'u'] });
      await updated.post();
      await api('DELETE', `/v1/partners/replay-updated/subscriptions/${updated.id}`);
      await batchIdAt('/updated');
      await env.client.workflow.getHandle(updated.workflowId).result().catch(() => undefined);
      record('subscription-updated-and-deleted', updated.workflowId);
    }

    if (want('retried')) {
      // A delivery retried twice before it succeeded.
      const retried = await subscribe('replay-retried', '/retried');
      await retried.post();
      const retriedBatch = await batchIdAt('/retried');
      await env.client.workflow.getHandle(batchWorkflowId(retriedBatch)).result();
      record('delivery-retried', batchWorkflowId(retriedBatch));
    }

    if (want('gate-released')) {
      // The endpoint gate, released: the probe fails three attempts, newer batches are held, the
      // endpoint recovers, the probe gets through and the held batches are released and delivered.
      downPaths.add('/released');
      const released = await subscribe('replay-released', '/released');
      await released.post();
      const probe = await eventually(async () => ((await released.read()).endpointHealth.probeBatchId as string | null) ?? undefined, 30_000, 'the gate to close');
      await released.post();
      await released.post();
      await eventually(async () => ((await released.read()).endpointHealth.heldBatches === 2 ? true : undefined), 30_000, 'two held batches');
      const held = (await api('GET', `/v1/partners/replay-released/subscriptions/${released.id}/batches?status=pending`)).json.batches.map((b: { batchId: string }) => b.batchId).find((id: string) => id !== probe) as string;
      downPaths.delete('/released');
      await eventually(async () => ((await released.read()).endpointHealth.heldBatches === 0 && (accepted.get('/released') ?? 0) >= 3 ? true : undefined), 60_000, 'the release');
      await env.client.workflow.getHandle(batchWorkflowId(held)).result();
      record('subscription-gate-released', released.workflowId);
      record('delivery-probe-recovered', batchWorkflowId(probe));
      record('delivery-held-released', batchWorkflowId(held));
    }

    if (want('gate-exhausted')) {
      // The endpoint gate, exhausted: the probe fails its 26th attempt, the subscription is disabled,
      // then enabled again (an update), which releases the batch held behind it.
      downPaths.add('/exhausted');
      const exhausted = await subscribe('replay-exhausted', '/exhausted');
      await exhausted.post();
      const lastProbe = await eventually(async () => ((await exhausted.read()).endpointHealth.probeBatchId as string | null) ?? undefined, 30_000, 'the gate to close');
      await exhausted.post();
      await eventually(async () => ((await exhausted.read()).enabled === false ? true : undefined), 120_000, 'the probe to exhaust its attempts');
      downPaths.delete('/exhausted');
      await api('PATCH', `/v1/partners/replay-exhausted/subscriptions/${exhausted.id}`, { enabled: true });
      await eventually(async () => ((await exhausted.read()).endpointHealth.heldBatches === 0 && (accepted.get('/exhausted') ?? 0) >= 1 ? true : undefined), 60_000, 'the held batch delivered');
      await env.client.workflow.getHandle(batchWorkflowId(lastProbe)).result().catch(() => undefined);
      record('subscription-gate-disabled-and-enabled', exhausted.workflowId);
      record('delivery-failed', batchWorkflowId(lastProbe));
    }

    if (want('rotate-secret')) {
      // A signing secret rotated (an update), then a batch signed with both secrets.
      const rotated = await subscribe('replay-rotated', '/rotated');
      if ((await api('POST', `/v1/partners/replay-rotated/subscriptions/${rotated.id}/rotate-secret`)).status !== 200) throw new Error('rotating');
      await rotated.post();
      const batch = await batchIdAt('/rotated');
      await env.client.workflow.getHandle(batchWorkflowId(batch)).result();
      record('subscription-secret-rotated', rotated.workflowId);
      record('delivery-signed', batchWorkflowId(batch));
    }

    if (want('recovery')) {
      // A recovery of one failed batch: found, redelivered, delivered.
      downPaths.add('/recovered');
      const since = new Date(Date.now() - 1_000).toISOString();
      const failing = await subscribe('replay-recovery', '/recovered');
      await failing.post();
      await eventually(async () => {
        const listed = await api('GET', `/v1/partners/replay-recovery/subscriptions/${failing.id}/batches?status=failed`);
        return listed.json.batches.length === 1 ? true : undefined;
      }, 120_000, 'the batch to fail');
      downPaths.delete('/recovered');
      if ((await api('POST', `/v1/partners/replay-recovery/subscriptions/${failing.id}/recover`, { since })).status !== 202) throw new Error('recovering');
      await env.client.workflow.getHandle(recoveryWorkflowId('replay-recovery', failing.id)).result();
      record('recovery-done', recoveryWorkflowId('replay-recovery', failing.id));
    }

    if (want('event-type')) {
      // An event type of the catalog: created, changed twice (a schema, then archived).
      const name = `replay.type-${Date.now()}`;
      const created = await api('POST', '/v1/event-types', { name, description: 'Recorded for the replay corpus' });
      if (created.status !== 201) throw new Error(`creating ${name}: ${created.status}`);
      await api('PATCH', `/v1/event-types/${name}`, { schema: { type: 'object' }, example: {} });
      await api('POST', `/v1/event-types/${name}/archive`);
      record('event-type-changed', eventTypeWorkflowId(name));
    }
  });

  mkdirSync(out, { recursive: true });
  const manifest = readManifest();
  const recordedOn = git('log', '-1', '--format=%ad', '--date=short', 'HEAD');
  const why = git('log', '-1', '--format=%s', 'HEAD');
  const sdk = `@temporalio/worker ${(JSON.parse(readFileSync(new URL('../../node_modules/@temporalio/worker/package.json', import.meta.url), 'utf8')) as { version: string }).version}`;
  const server = `Temporal CLI dev server: ${execFileSync(temporalCliPath, ['--version'], { encoding: 'utf8' }).trim()}`;
  for (const [name, workflowId, runId] of recorded) {
    const json = exportHistory(workflowId, runId);
    writeFileSync(new URL(`${name}.json`, out), json);
    const history = JSON.parse(json) as ExportedHistory;
    manifest.histories.push({ file: `${commit}/${name}.json`, recordedFrom: commit, recordedOn, sdk, server, workflow: workflowTypeOf(history) ?? '?', patches: patchesIn(history), pins: SCENARIO_PINS[name] ?? name, why });
    console.log(`recorded ${commit}/${name} (${history.events.length} events)`);
  }
  writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
  await receiver.close();
  await env.teardown();
}

main().catch((err: unknown) => {
  console.error(`record-histories: ${(err as Error).message ?? err}`);
  process.exit(1);
});
