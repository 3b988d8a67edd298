/**
 * The deploy drill (`npm run chaos -- --only=deploy`): a new version of the workflow code rolled out
 * under load with Worker Versioning, the old one drained and stopped, then a rollback and a roll
 * forward again, as docs/operations.md ("Deploying a new version") tells an operator to.
 *
 * The new version is a copy of this checkout's sources with one real change to the workflow code
 * (each batch's memo names the version that cut it), built as `npm run build` builds. Around the
 * deploy: a failing endpoint with batches in retry and held behind its probe, subscriptions
 * mid-window, and a bulk recovery (pinned to the version that started it) still running.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@temporalio/client';
import proto from '@temporalio/proto';
import { buildInfoFile } from '../scripts/build/entry-points';
import { loadConfig } from '../platform/config';
import { claimCurrent, WorkerDeployment } from '../platform/worker-deployment';
import { root, sleep } from '../harness/processes';
import { HARNESS_TOKEN } from '../harness/token';
import type { StackProcess } from '../harness/stack';
import { batchWorkflowId } from '../workflows/ids';
import { retrySchedule } from '../domain/schedule';
import type { Cluster, LoggedRequest } from './cluster';

/** What the drill's new version changes in workflows/subscription.ts: each batch's memo says it was cut by v2. */
const CHANGE = {
  file: 'workflows/subscription.ts',
  from: 'memo: { batch: { createdAt, eventCount: events.length, sequence } } satisfies BatchMemo,',
  to: "memo: { batch: { createdAt, eventCount: events.length, sequence, cutBy: 'v2' } } satisfies BatchMemo & { cutBy: string },",
};

/** What a build needs of a checkout (the Dockerfile's build stage copies the same). */
const BUILD_INPUTS = ['package.json', 'tsconfig.json', 'domain', 'platform', 'codec', 'workflows', 'activities', 'api', 'stores', 'worker', 'scripts/ops', 'scripts/build'];

/** A checkout of the next version: this one's sources with CHANGE applied, built. Answers its folder and build id. */
export function buildNextVersion(): { checkout: string; buildId: string; remove: () => void } {
  const checkout = mkdtempSync(join(tmpdir(), 'webhooks-v2-'));
  for (const input of BUILD_INPUTS) cpSync(join(root, input), join(checkout, input), { recursive: true });
  symlinkSync(join(root, 'node_modules'), join(checkout, 'node_modules'));
  const file = join(checkout, CHANGE.file);
  const source = readFileSync(file, 'utf8');
  // The drill must carry a real change: if the line moved, say so rather than deploy the same code.
  if (source.split(CHANGE.from).length !== 2) throw new Error(`the deploy drill's change no longer applies: ${CHANGE.file} has no single "${CHANGE.from}"`);
  writeFileSync(file, source.replace(CHANGE.from, CHANGE.to));
  execFileSync(process.execPath, ['--import', 'tsx', 'scripts/build/build.ts'], { cwd: checkout, stdio: 'ignore' });
  return { checkout, buildId: buildIdOf(checkout), remove: () => rmSync(checkout, { recursive: true, force: true }) };
}

export function buildIdOf(checkout: string): string {
  return (JSON.parse(readFileSync(join(checkout, 'dist', buildInfoFile), 'utf8')) as { buildId: string }).buildId;
}

/** Makes `buildId` current once its workers poll, as a worker with WORKER_SET_CURRENT=always does. */
async function makeCurrent(deployment: WorkerDeployment, buildId: string): Promise<void> {
  await claimCurrent(deployment, buildId, 'always', AbortSignal.timeout(60_000));
}

/** Visibility's name for a version: `deployment:buildId`. */
const versionName = (deployment: WorkerDeployment, buildId: string) => `${deployment.name}:${buildId}`;

/** Waits until no running workflow is pinned to `buildId`: then its workers may stop. Answers how long it took. */
export async function drain(client: Client, deployment: WorkerDeployment, buildId: string, timeoutMs = 120_000): Promise<number> {
  const started = Date.now();
  const query = `TemporalWorkerDeploymentVersion = '${versionName(deployment, buildId)}' AND TemporalWorkflowVersioningBehavior = 'Pinned' AND ExecutionStatus = 'Running'`;
  while ((await client.workflow.count(query)).count > 0) {
    if (Date.now() - started > timeoutMs) {
      const left: string[] = [];
      for await (const execution of client.workflow.list({ query, pageSize: 5 })) if (left.push(execution.workflowId) >= 5) break;
      throw new Error(`version ${buildId} did not drain within ${timeoutMs / 1000} s: still pinned to it: ${left.join(', ')}`);
    }
    await sleep(500);
  }
  return Date.now() - started;
}

/** A workflow's versioning as Temporal records it: behaviour and the build id it runs on. */
export async function versioningOf(client: Client, workflowId: string): Promise<{ behavior: string; buildId: string | undefined }> {
  const { raw } = await client.workflow.getHandle(workflowId).describe();
  const info = raw.workflowExecutionInfo?.versioningInfo;
  const behavior = proto.temporal.api.enums.v1.VersioningBehavior[info?.behavior ?? 0] ?? 'unknown';
  return { behavior: behavior.replace('VERSIONING_BEHAVIOR_', ''), buildId: info?.deploymentVersion?.buildId ?? undefined };
}

/**
 * Every workflow task failure (a nondeterminism error is one) in every history of the namespace,
 * but in the batch the drill terminated: a task in flight when a run is terminated is failed by
 * Temporal (FORCE_CLOSE_COMMAND).
 */
export async function workflowTaskFailures(cluster: Cluster, terminated: string): Promise<string[]> {
  const client = codecClient(cluster);
  const failures: string[] = [];
  const { EventType } = proto.temporal.api.enums.v1;
  for await (const execution of client.workflow.list()) {
    if (execution.workflowId === terminated && execution.status.name === 'TERMINATED') continue;
    const history = await client.workflow.getHandle(execution.workflowId, execution.runId).fetchHistory();
    for (const event of history.events ?? []) {
      if (event.eventType !== EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED) continue;
      const attributes = event.workflowTaskFailedEventAttributes;
      failures.push(`${execution.workflowId}: workflow task failed (${attributes?.cause ?? '?'}): ${attributes?.failure?.message ?? ''}`.slice(0, 300));
    }
  }
  return failures;
}

/** The steps of the drill, with the load running; notes say what happened and when. */
export async function deployUnderLoad(cluster: Cluster, notes: string[]): Promise<DrillOutcome> {
  const started = Date.now();
  const note = (text: string) => notes.push(`${((Date.now() - started) / 1000).toFixed(1).padStart(5)} s  ${text}`);
  const { temporal, worker } = loadConfig(cluster.env);
  const deployment = new WorkerDeployment(cluster.client.connection.workflowService, temporal.namespace, worker.deployment!.name);
  const v1 = buildIdOf(root);
  const v1Worker = cluster.workers[0]!;

  // Trouble already in progress: a failing endpoint (batches in retry, later ones held behind its probe).
  cluster.failingPaths.add('/hook/chaos-dead');
  cluster.failingPaths.add('/hook/chaos-recovery');
  const next = buildNextVersion();
  try {
    note(`v1 ${v1} current; v2 ${next.buildId} built`);
    const recovery = await startRecovery(cluster, note);
    const client = codecClient(cluster);
    // Temporal records a run's versioning once a worker completes its first workflow task.
    let recoveryBefore = await versioningOf(client, recovery.workflowId);
    for (let tries = 0; recoveryBefore.behavior === 'UNSPECIFIED' && tries < 50; tries++) {
      await sleep(200);
      recoveryBefore = await versioningOf(client, recovery.workflowId);
    }
    note(`recovery ${recovery.workflowId} runs ${recoveryBefore.behavior} on ${recoveryBefore.buildId}`);

    const v2Worker = cluster.startWorkerOf(next.checkout, { WORKER_SET_CURRENT: 'never' });
    await makeCurrent(deployment, next.buildId);
    note('v2 started and made current');
    await sleep(5_000);
    const recoveryAfter = await versioningOf(client, recovery.workflowId);
    note(`the recovery still runs ${recoveryAfter.behavior} on ${recoveryAfter.buildId}`);

    cluster.failingPaths.delete('/hook/chaos-dead');
    cluster.failingPaths.delete('/hook/chaos-recovery');
    note('the failing endpoints answer again');
    const drainedInMs = await drain(client, deployment, v1);
    note(`v1 drained after ${(drainedInMs / 1000).toFixed(1)} s; stopping it`);
    await v1Worker.stop(30_000);
    await sleep(5_000);

    note('rolling back: v1 started again and made current');
    v1Worker.start();
    await makeCurrent(deployment, v1);
    const rolledBackAt = Date.now();
    await sleep(8_000);
    // A task already on a v2 worker's own (sticky) queue may still run there for up to
    // WORKER_STICKY_QUEUE_TIMEOUT_MS (3 s): judge the batches cut from a second after that.
    const rollbackWindow = { from: rolledBackAt + 4_000, to: Date.now() };
    note('rolling forward: v2 current again; v1 drained and stopped');
    await makeCurrent(deployment, next.buildId);
    await drain(client, deployment, v1);
    await v1Worker.stop(30_000);
    await sleep(3_000);
    return {
      v1,
      v2: next.buildId,
      recovery: { workflowId: recovery.workflowId, terminatedBatch: batchWorkflowId(recovery.batchId), before: recoveryBefore, after: recoveryAfter },
      rollbackWindow,
      v2Worker,
      remove: next.remove,
    };
  } catch (err) {
    next.remove();
    throw err;
  }
}

export interface DrillOutcome {
  v1: string;
  v2: string;
  recovery: { workflowId: string; terminatedBatch: string; before: { behavior: string; buildId: string | undefined }; after: { behavior: string; buildId: string | undefined } };
  /** When v1 was current again (from 4 s after the switch): batches cut then carry no v2 mark. */
  rollbackWindow: { from: number; to: number };
  v2Worker: StackProcess;
  remove: () => void;
}

/**
 * A bulk recovery that runs across the deploy: one batch of a quiet partner fails for good (an
 * operator terminated it while its endpoint was down), then the recovery redelivers it and waits,
 * while the endpoint still fails, until the redelivered batch ends.
 */
async function startRecovery(cluster: Cluster, note: (text: string) => void): Promise<{ workflowId: string; batchId: string }> {
  const partner = 'chaos-recovery';
  const subscriptionId = cluster.subscriptionIds.get(partner)!;
  const [api] = cluster.apiUrls();
  const call = (method: string, path: string, body?: unknown) =>
    fetch(`${api}${path}`, { method, headers: { authorization: `Bearer ${HARNESS_TOKEN}`, 'content-type': 'application/json' }, ...(body ? { body: JSON.stringify(body) } : {}) });
  const since = new Date(Date.now() - 60_000).toISOString();
  const posted = await call('POST', `/v1/partners/${partner}/events`, { type: 'chaos.tick', data: { drill: 'recovery' } });
  if (posted.status !== 202) throw new Error(`the recovery's event was refused: ${posted.status} ${await posted.text()}`);
  const batchId = await waitFor(() => {
    const request = cluster.log.find((entry) => entry.path === `/hook/${partner}`);
    return request ? (JSON.parse(request.body) as { batch_id: string }).batch_id : undefined;
  }, 30_000, "the recovery partner's first attempt");
  await cluster.client.workflow.getHandle(batchWorkflowId(batchId)).terminate('the deploy drill: a batch that failed for good');
  const recovered = await call('POST', `/v1/partners/${partner}/subscriptions/${subscriptionId}/recover`, { since });
  if (recovered.status !== 202) throw new Error(`the recovery was refused: ${recovered.status} ${await recovered.text()}`);
  note(`batch ${batchId} terminated while failing; a recovery redelivers it`);
  return { workflowId: `recovery:${partner}:${subscriptionId}`, batchId };
}

/**
 * Whether each batch kept its retry schedule across the deploy: its attempts numbered upwards
 * from 1 (one cut off by a stopping worker may be missing), and none before its wait had passed
 * since the one before (DELIVERY_BACKOFF_SCALE `scale`; the receiver sends no Retry-After).
 * `except`: paths whose batches were redelivered on purpose (a fresh 26 attempts).
 */
export function scheduleProblems(log: readonly LoggedRequest[], scale: number, except: string[]): string[] {
  const schedule = retrySchedule(scale);
  const byBatch = new Map<string, LoggedRequest[]>();
  for (const request of log) {
    if (except.includes(request.path)) continue;
    const batchId = (JSON.parse(request.body) as { batch_id: string }).batch_id;
    byBatch.set(batchId, [...(byBatch.get(batchId) ?? []), request]);
  }
  const problems: string[] = [];
  for (const [batchId, requests] of byBatch) {
    if (requests[0]!.attempt !== 1) problems.push(`batch ${batchId}: its first request says attempt ${requests[0]!.attempt}`);
    for (let i = 1; i < requests.length; i++) {
      const [before, after] = [requests[i - 1]!, requests[i]!];
      if (after.attempt <= before.attempt) problems.push(`batch ${batchId}: attempt ${after.attempt} came after attempt ${before.attempt}`);
      const dueMs = (schedule[after.attempt - 1]?.offsetMs ?? Infinity) - (schedule[before.attempt - 1]?.offsetMs ?? 0);
      // A millisecond's slack for the clocks' resolution.
      if (after.attempt > before.attempt && after.receivedAt - before.receivedAt < dueMs - 1) {
        problems.push(`batch ${batchId}: attempt ${after.attempt} came ${after.receivedAt - before.receivedAt} ms after attempt ${before.attempt}, before its wait of ${Math.round(dueMs)} ms`);
      }
    }
  }
  return problems;
}

/** The recovery's progress once the run settled. */
export async function recoveryProgress(cluster: Cluster): Promise<{ status: string; redelivered: number; delivered: number }> {
  const partner = 'chaos-recovery';
  const [api] = cluster.apiUrls();
  const response = await fetch(`${api}/v1/partners/${partner}/subscriptions/${cluster.subscriptionIds.get(partner)}/recover`, { headers: { authorization: `Bearer ${HARNESS_TOKEN}` } });
  return (await response.json()) as { status: string; redelivered: number; delivered: number };
}

/** A client that reads memos and results through the stack's payload codec. */
function codecClient(cluster: Cluster): Client {
  const { namespace, dataConverter } = loadConfig(cluster.env).temporal;
  return new Client({ connection: cluster.client.connection, namespace, dataConverter });
}

/** Which batches each version cut: the memo the drill's change adds. */
export async function batchesByVersion(cluster: Cluster, window: { from: number; to: number }): Promise<{ v2: number; unmarked: number; markedInRollback: number; inRollback: number }> {
  const client = codecClient(cluster);
  const counts = { v2: 0, unmarked: 0, markedInRollback: 0, inRollback: 0 };
  for await (const execution of client.workflow.list({ query: "WorkflowType = 'deliveryWorkflow'" })) {
    const marked = (execution.memo?.batch as { cutBy?: string } | undefined)?.cutBy === 'v2';
    if (marked) counts.v2++;
    else counts.unmarked++;
    const startedAt = execution.startTime.getTime();
    if (startedAt >= window.from && startedAt <= window.to) {
      counts.inRollback++;
      if (marked) counts.markedInRollback++;
    }
  }
  return counts;
}

async function waitFor<T>(probe: () => T | undefined, timeoutMs: number, what: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}
