/**
 * `npm run bench -- --restarts`: 20 busy subscriptions (10 with --quick) whose histories grow in
 * two phases; after each, a burst of events, SIGKILL to the worker as soon as the burst has been
 * accepted, and a new worker, which must replay every subscription's history before it can
 * continue. Reports the history lengths and the time from the kill to the first delivery and to the
 * last event of the burst delivered: how a restart's cost grows with history length (this machine
 * cannot build a thousand long histories in a benchmark's time; the growth per history event
 * carries over). With `--compare-env=`, the scenario once with those settings and once without.
 * On the dev server only: its stack restarts the worker.
 */
import { createSubscriptions, percentile, startLoadStack } from '../../harness/stack';
import type { Scenario } from '../scenarios';
import { BACKOFF_SCALE, sequence, stepRunner, type ModeReport, type RunStep } from '../step';
import { envVariants, type Variant } from '../variants';
import type { OptionsOf } from '../options';

interface RestartRow {
  phase: number;
  subscriptions: number;
  historyLength: { p50: number | null; max: number | null };
  burstAccepted: number;
  undelivered: number;
  firstDeliveryAfterKillMs: number | null;
  allDeliveredAfterKillMs: number | null;
  workflowTaskFailures: number;
  slowWorkflowTasks: number;
  worstWorkflowTaskMs: number;
  /** The slow and failed workflow tasks by outcome and cause: how many, and the longest wait for a worker. */
  slowTaskKinds: Record<string, { count: number; maxQueuedMs: number; maxRanMs: number }>;
}

export async function restartsRun(options: OptionsOf<'restarts'>): Promise<ModeReport> {
  const { compareEnv } = options.mode;
  const runStep = stepRunner(options);
  return {
    restarts: compareEnv
      ? Object.fromEntries(await sequence(envVariants(compareEnv), async (variant) => [variant.name, await workerRestarts(options.quick, runStep, variant)] as const))
      : await workerRestarts(options.quick, runStep),
  };
}

async function workerRestarts(quick: boolean, runStep: RunStep, variant: Variant = { name: 'defaults', env: {} }): Promise<RestartRow[]> {
  const count = quick ? 10 : 20;
  const batching = { windowMs: 5000, maxEvents: 100 };
  const spread: Scenario = { name: 'restarts', description: '25 events/s to each subscription', subscriptions: count, batching, rate: count * 25 };
  const stack = await startLoadStack({ DELIVERY_BACKOFF_SCALE: BACKOFF_SCALE, ...variant.env });
  const results: RestartRow[] = [];
  try {
    const partners = Array.from({ length: count }, (_, i) => `restart-${i}`);
    await createSubscriptions(stack, partners, batching);
    for (const phase of [1, 2]) {
      let grow = await runStep(stack, { ...spread, name: `grow ${phase}` }, partners, spread.rate);
      if (!quick) grow = await runStep(stack, { ...spread, name: `grow ${phase}` }, partners, spread.rate);
      console.error('restarts grow', phase, JSON.stringify({ ...grow, timeline: undefined, temporal: undefined }));
      // History lengths of a sample of the subscriptions' current runs.
      const lengths: number[] = [];
      for await (const execution of stack.client.workflow.list({ query: "WorkflowType = 'subscriptionWorkflow' AND ExecutionStatus = 'Running'", pageSize: 50 })) {
        lengths.push((await stack.client.workflow.getHandle(execution.workflowId).describe()).historyLength);
        if (lengths.length >= count) break;
      }
      lengths.sort((a, b) => a - b);
      let killedAt = 0;
      const burst = await runStep(stack, { ...spread, name: `burst ${phase}` }, partners, spread.rate, 'open', async () => {
        killedAt = Date.now();
        await stack.restart('worker');
      });
      const arrivals = [...stack.receiver.arrivals.values()].filter((at) => at >= killedAt);
      const firstDeliveryMs = arrivals.length ? arrivals.reduce((min, at) => Math.min(min, at), Infinity) - killedAt : null;
      const lastDeliveryMs = burst.undelivered === 0 && arrivals.length ? arrivals.reduce((max, at) => Math.max(max, at), 0) - killedAt : null;
      const row: RestartRow = {
        phase,
        subscriptions: count,
        historyLength: { p50: percentile(lengths, 50), max: lengths[lengths.length - 1] ?? null },
        burstAccepted: burst.acceptedCount,
        undelivered: burst.undelivered,
        firstDeliveryAfterKillMs: firstDeliveryMs,
        allDeliveredAfterKillMs: lastDeliveryMs,
        workflowTaskFailures: burst.temporal.workflowTaskFailures,
        slowWorkflowTasks: burst.temporal.slowWorkflowTasks.length,
        worstWorkflowTaskMs: burst.temporal.slowWorkflowTasks.reduce((max, task) => Math.max(max, task.queuedMs + task.ranMs), 0),
        slowTaskKinds: {},
      };
      for (const task of burst.temporal.slowWorkflowTasks) {
        const kind = (row.slowTaskKinds[[task.outcome, task.cause].filter(Boolean).join(' ')] ??= { count: 0, maxQueuedMs: 0, maxRanMs: 0 });
        kind.count++;
        kind.maxQueuedMs = Math.max(kind.maxQueuedMs, task.queuedMs);
        kind.maxRanMs = Math.max(kind.maxRanMs, task.ranMs);
      }
      console.error('restarts burst', JSON.stringify(row));
      results.push(row);
    }
  } finally {
    await stack.stop();
  }
  console.log(`\nworker restarts (${variant.name}): ${count} subscriptions at 25 events/s each; SIGKILL to the worker right after a burst of events was accepted, then a new worker`);
  for (const row of results) {
    console.log(
      `  phase ${row.phase}: history length p50/max ${row.historyLength.p50}/${row.historyLength.max} events; burst ${row.burstAccepted} events; first delivery ${row.firstDeliveryAfterKillMs} ms and all delivered ${row.allDeliveredAfterKillMs ?? 'not within the settle time'} ms after the kill; ${row.slowWorkflowTasks} slow workflow tasks (worst ${row.worstWorkflowTaskMs} ms), ${row.workflowTaskFailures} failed; by kind ${JSON.stringify(row.slowTaskKinds)}`,
    );
  }
  return results;
}
