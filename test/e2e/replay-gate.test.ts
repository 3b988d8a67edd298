import { Connection } from '@temporalio/client';
import { msToTs, tsToMs } from '@temporalio/common/lib/time';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newKeyEntry } from '../../codec/key-ring';
import { startProjectProcess } from '../../harness/processes';
import type { Receiver } from '../../harness/receiver';
import { startStack, type Stack } from '../../harness/stack';
import { eventually } from '../../harness/temporal';
import { HARNESS_TOKEN } from '../../harness/token';
import { temporalConnection } from '../../platform/temporal-connection';
import { eventTypeWorkflowId, recoveryWorkflowId, subscriptionWorkflowId } from '../../workflows/ids';

/**
 * The replay gate a deploy pipeline runs before it rolls out new workers (docs/operations.md):
 * `npm run replay -- --recent <window>` as its own process, against a live dev server whose
 * histories are encrypted, replaying recent runs of every workflow type through the key ring.
 */
describe('the replay gate: npm run replay -- --recent', () => {
  const payloadKey = newKeyEntry('gate-key');
  const partnerId = 'gate';
  let stack: Stack;
  let receiver: Receiver;
  let subscriptionId: string;

  const call = async (method: string, path: string, body?: unknown) => {
    const response = await fetch(`${stack.apiUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${HARNESS_TOKEN}`, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, json: (await response.json()) as Record<string, any> };
  };

  const replay = async (args: string[], env: Record<string, string> = { ...stack.clientEnv, PAYLOAD_KEYS: payloadKey }) => {
    const run = startProjectProcess('scripts/ops/replay.ts', env, args);
    const code = await run.exited;
    await run.closed;
    return { code, output: run.output() };
  };

  beforeAll(async () => {
    stack = await startStack({ env: { DELIVERY_BACKOFF_SCALE: '0.0001', PAYLOAD_KEYS: payloadKey, PAYLOAD_ENCRYPTION: 'required' } });
    ({ receiver } = stack);
    // One run of each workflow type: an event type and a subscription still running, three
    // deliveries and a recovery (of no failed batch) closed.
    expect((await call('POST', '/v1/event-types', { name: 'gate.tested', description: 'for the replay gate' })).status).toBe(201);
    const created = await call('POST', `/v1/partners/${partnerId}/subscriptions`, { url: receiver.url('/gate'), eventTypes: ['gate.tested'], batching: { maxEvents: 1 } });
    expect(created.status).toBe(201);
    subscriptionId = created.json.id as string;
    expect((await call('POST', `/v1/partners/${partnerId}/events`, [1, 2, 3].map((n) => ({ type: 'gate.tested', data: { n } })))).status).toBe(202);
    await eventually(() => (receiver.requests.filter((r) => r.path === '/gate').length === 3 ? true : undefined), 30_000, 'three batches');
    expect((await call('POST', `/v1/partners/${partnerId}/subscriptions/${subscriptionId}/recover`, { since: new Date(Date.now() - 60_000).toISOString() })).status).toBe(202);
    const count = async (query: string) => (await stack.client.workflow.count(query)).count;
    await eventually(
      async () =>
        (await count("WorkflowType = 'deliveryWorkflow' AND ExecutionStatus = 'Completed'")) === 3 &&
        (await count("WorkflowType = 'recoveryWorkflow' AND ExecutionStatus = 'Completed'")) === 1
          ? true
          : undefined,
      30_000,
      'the deliveries and the recovery closed, as visibility sees them',
    );
  });

  afterAll(async () => {
    await stack?.stop();
  });

  it('replays the open and recently closed runs of every workflow type through the key ring and exits 0', async () => {
    const { code, output } = await replay(['--recent', '1h']);
    expect(output).toContain(`ok        ${subscriptionWorkflowId(partnerId, subscriptionId)} (run `);
    expect(output).toContain(`ok        ${eventTypeWorkflowId('gate.tested')} (run `);
    expect(output).toContain(`ok        ${recoveryWorkflowId(partnerId, subscriptionId)} (run `);
    expect(output.match(/^ok {8}batch:/gm)).toHaveLength(3);
    expect(output).toMatch(/^subscriptionWorkflow +1 replayed: 1 ok, 0 diverged or failed$/m);
    expect(output).toMatch(/^deliveryWorkflow +3 replayed: 3 ok, 0 diverged or failed$/m);
    expect(output).toMatch(/^recoveryWorkflow +1 replayed: 1 ok, 0 diverged or failed$/m);
    expect(output).toMatch(/^eventTypeWorkflow +1 replayed: 1 ok, 0 diverged or failed$/m);
    expect(output).toContain('6 run(s) replayed: 6 ok, 0 diverged or failed');
    expect(code).toBe(0);
  });

  it('exits 1 naming the diverged runs when the workflow code changed incompatibly, and caps each type at --limit', async () => {
    const { code, output } = await replay(['--recent', '1h', '--limit', '2', '--workflows', 'test/replay/changed-workflows/index.ts']);
    expect(output).toContain(`DIVERGED  ${subscriptionWorkflowId(partnerId, subscriptionId)} (run `);
    expect(output).toMatch(/first diverging event: #\d+/);
    expect(output).toMatch(/^subscriptionWorkflow +1 replayed: 0 ok, 1 diverged or failed$/m);
    // Only the subscription workflow changed: the others replay; of three deliveries, the newest two.
    expect(output).toMatch(/^deliveryWorkflow +2 replayed: 2 ok, 0 diverged or failed \(the newest 2; more matched: raise --limit to replay them\)$/m);
    // The raw listing: this client has no key ring for the memos the SDK's listing would decode.
    const { executions } = await stack.client.workflowService.listWorkflowExecutions({ namespace: 'default', query: "WorkflowType = 'deliveryWorkflow'" });
    const closed = new Map(executions.map((run) => [run.execution!.workflowId!, tsToMs(run.closeTime)]));
    const replayedBatches = [...output.matchAll(/^ok {8}(batch:\S+)/gm)].map((match) => match[1]!);
    const left = [...closed.keys()].filter((id) => !replayedBatches.includes(id));
    expect(left).toHaveLength(1);
    for (const id of replayedBatches) expect(closed.get(id)!, `${id} closed no earlier than ${left[0]}`).toBeGreaterThanOrEqual(closed.get(left[0]!)!);
    expect(output).toMatch(/^eventTypeWorkflow +1 replayed: 1 ok, 0 diverged or failed$/m);
    expect(code).toBe(1);
  });

  it('refuses a bad window or limit in one line with exit 2, before connecting', async () => {
    const env = { TEMPORAL_ADDRESS: '127.0.0.1:1' };
    const badWindow = await replay(['--recent', '24'], env);
    expect(badWindow.output.trim()).toBe("replay: --recent takes a window such as 90m, 24h or 7d (s, m, h or d), not '24'");
    expect(badWindow.code).toBe(2);
    const badLimit = await replay(['--recent', '1h', '--limit', '0'], env);
    expect(badLimit.output.trim().split('\n')).toHaveLength(1);
    expect(badLimit.code).toBe(2);
  });

  it('exits 2 when nothing ran in the namespace', async () => {
    const { connection: options } = temporalConnection(stack.clientEnv);
    const connection = await Connection.connect(options);
    await connection.workflowService.registerNamespace({ namespace: 'gate-empty', workflowExecutionRetentionPeriod: msToTs('1 day') });
    await connection.close();
    // A namespace just registered takes a moment to be served.
    const empty = await eventually(async () => {
      const run = await replay(['--recent', '1h'], { ...stack.clientEnv, TEMPORAL_NAMESPACE: 'gate-empty', PAYLOAD_KEYS: payloadKey });
      return run.output.includes('no workflow matched') ? run : undefined;
    }, 40_000, 'the replay on an empty namespace');
    expect(empty.output.trim()).toBe('no workflow matched: no subscriptionWorkflow, deliveryWorkflow, recoveryWorkflow, eventTypeWorkflow running or closed in the last 1h');
    expect(empty.code).toBe(2);
  });
});
