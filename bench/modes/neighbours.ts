/**
 * `npm run bench -- --neighbours`: 50 partners whose endpoints refuse connections, each with a
 * backlog of failing batches retrying (waits scaled by DELIVERY_BACKOFF_SCALE), beside one healthy
 * partner under open-loop load; then the worker, the API and the dev server are killed (SIGKILL)
 * and started again, and the healthy partner is loaded again. Target: its end-to-end p99 within
 * windowMs + 2 s during the load and after the restart. On the dev server only: its stack restarts it.
 */
import { createSubscription as createOne, freePort } from '../../harness/processes';
import { HARNESS_TOKEN } from '../../harness/token';
import { createSubscription, startLoadStack } from '../../harness/stack';
import type { Scenario } from '../scenarios';
import { BACKOFF_SCALE, printStalls, stepRunner, type ModeReport } from '../step';
import type { OptionsOf } from '../options';

export async function neighboursRun(options: OptionsOf<'neighbours'>): Promise<ModeReport> {
  const { quick } = options;
  const runStep = stepRunner(options);
  const dead = quick ? 10 : 50;
  const batching = { windowMs: 1000, maxEvents: 100 };
  const healthy: Scenario = { name: 'healthy', description: 'the healthy partner', subscriptions: 1, batching, rate: quick ? 300 : 500 };
  const stack = await startLoadStack({ DELIVERY_BACKOFF_SCALE: BACKOFF_SCALE });
  try {
    const refusing = `http://127.0.0.1:${await freePort()}/hook`;
    const deadPartners = Array.from({ length: dead }, (_, i) => `refused-${i}`);
    for (const partnerId of deadPartners) {
      await createOne(stack.apiUrl, HARNESS_TOKEN, partnerId, { url: refusing, eventTypes: ['page.viewed'], batching });
    }
    await createSubscription(stack, 'healthy', batching);
    // The backlog: about 20 failing batches per refusing partner, then retrying as the load runs.
    const backlog: Scenario = { name: 'backlog', description: 'events for the refusing partners', subscriptions: dead, batching, rate: dead * 5, expectsDelivery: false };
    const backlogStep = await runStep(stack, backlog, deadPartners, backlog.rate);
    console.error('neighbours backlog', JSON.stringify({ ...backlogStep, timeline: undefined, temporal: undefined }));
    const pendingBatches = async () => (await stack.client.workflow.count("WorkflowType = 'deliveryWorkflow' AND ExecutionStatus = 'Running'")).count;
    await runStep(stack, { ...healthy, name: 'healthy warm-up' }, ['healthy'], Math.round(healthy.rate / 2));
    const before = { pendingBatches: await pendingBatches() };
    const during = await runStep(stack, healthy, ['healthy'], healthy.rate);
    console.error('neighbours during', JSON.stringify({ ...during, timeline: undefined }));
    const restartStarted = Date.now();
    await stack.restart('all');
    const restartMs = Date.now() - restartStarted;
    const after = await runStep(stack, healthy, ['healthy'], healthy.rate);
    console.error('neighbours after restart', JSON.stringify({ ...after, timeline: undefined }));
    const targetMs = batching.windowMs + 2000;
    const result = { refusingPartners: dead, backlogAccepted: backlogStep.acceptedCount, before, during, restartMs, after, p99TargetMs: targetMs, pendingBatchesAfter: await pendingBatches() };
    console.log(`\nnoisy neighbours: ${dead} partners refusing connections (${backlogStep.acceptedCount} events of backlog, ${before.pendingBatches} batches retrying), one healthy partner at ${healthy.rate} events/s`);
    for (const [label, step] of [['during', during], ['after a restart of everything', after]] as const) {
      console.log(
        `  ${label}: accepted ${step.acceptedPerSecond}/s, 202 p50/p99 ${step.latency202Ms.p50}/${step.latency202Ms.p99} ms, end-to-end p50/p99 ${step.endToEndMs.p50}/${step.endToEndMs.p99} ms (target ${targetMs}: ${step.endToEndMs.p99 !== null && step.endToEndMs.p99 <= targetMs ? 'met' : 'missed'}), undelivered ${step.undelivered}, workflow tasks failed ${step.temporal.workflowTaskFailures}`,
      );
    }
    console.log(`  the restart (SIGKILL to worker, API and dev server, then the API healthy again): ${restartMs} ms`);
    printStalls([
      ['during', during],
      ['after restart', after],
    ]);
    return { neighbours: result };
  } finally {
    await stack.stop();
  }
}
