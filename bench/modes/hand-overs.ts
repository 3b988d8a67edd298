/**
 * `npm run bench -- --hand-overs[=N]`: N (20) consecutive 20 s open-loop runs of one hot
 * subscription at `--rate=` (600) events/s, each on a fresh store, each crossing at least one
 * continue-as-new: every run's 202 p99, 503s and failed workflow tasks. With `--against=<revision>`,
 * that revision's runs alternate with the working tree's.
 */
import { createSubscription, startLoadStack } from '../../harness/stack';
import type { Scenario } from '../scenarios';
import { BACKOFF_SCALE, stepRunner, SUSTAINED_202_P99_MS, TEMPORAL_DESCRIPTION, type ModeReport, type StepResult } from '../step';
import { revisionVariants, type Variant } from '../variants';
import type { OptionsOf } from '../options';

/** One row per hand-over run: what a producer saw, and what Temporal recorded. */
interface HandOverRow {
  variant: string;
  run: number;
  acceptedPerSecond: number;
  latency202Ms: StepResult['latency202Ms'];
  refused503: number;
  latency503Ms: StepResult['latency503Ms'];
  workflowTaskFailures: number;
  slowWorkflowTasks: StepResult['temporal']['slowWorkflowTasks'];
  /** Continue-as-new runs the subscription started in the step. */
  handOvers: number;
  undelivered: number;
  ok: boolean;
}

export async function handOversRun(options: OptionsOf<'hand-overs'>): Promise<ModeReport> {
  const { runs, rate, against } = options.mode;
  const runStep = stepRunner(options);
  const variants: Variant[] = against ? revisionVariants(against) : [{ name: 'working tree', env: {} }];
  const scenario: Scenario = { name: 'hand-over', description: 'one hot subscription across its continue-as-new', subscriptions: 1, batching: { windowMs: 1000, maxEvents: 100 }, rate, stepSeconds: 20 };
  const rows: HandOverRow[] = [];
  for (let run = 0; run < runs; run++) {
    for (const variant of variants) {
      const stack = await startLoadStack({ DELIVERY_BACKOFF_SCALE: BACKOFF_SCALE, ...variant.env }, { temporal: options.temporal, root: variant.root });
      try {
        const partnerId = `bench-hand-over-${run}`;
        await createSubscription(stack, partnerId, scenario.batching);
        const step = await runStep(stack, scenario, [partnerId], rate);
        const refused503 = step.errors['503'] ?? 0;
        const row: HandOverRow = {
          variant: variant.name,
          run,
          acceptedPerSecond: step.acceptedPerSecond,
          latency202Ms: step.latency202Ms,
          refused503,
          latency503Ms: step.latency503Ms,
          workflowTaskFailures: step.temporal.workflowTaskFailures,
          slowWorkflowTasks: step.temporal.slowWorkflowTasks,
          handOvers: step.temporal.workflowStarts - step.temporal.childStarts,
          undelivered: step.undelivered,
          ok: (step.latency202Ms.p99 ?? Infinity) <= SUSTAINED_202_P99_MS && refused503 === 0 && step.undelivered === 0,
        };
        rows.push(row);
        console.error('hand-over', JSON.stringify({ ...row, slowWorkflowTasks: row.slowWorkflowTasks.length }));
      } finally {
        await stack.stop();
      }
    }
  }
  console.log(`\nTemporal: ${TEMPORAL_DESCRIPTION[options.temporal]}; one subscription, ${rate} events/s open loop, 20 s a run, a fresh store each`);
  console.log('variant         run  accepted/s  202 p50/p99 ms  503s  503 p99 ms  failed WFTs  slow WFTs  hand-overs  ok');
  for (const row of rows) {
    console.log(
      [
        row.variant.padEnd(15),
        String(row.run).padStart(3),
        String(row.acceptedPerSecond).padStart(11),
        `${row.latency202Ms.p50}/${row.latency202Ms.p99}`.padStart(15),
        String(row.refused503).padStart(5),
        String(row.latency503Ms.p99 ?? '-').padStart(11),
        String(row.workflowTaskFailures).padStart(12),
        String(row.slowWorkflowTasks.length).padStart(10),
        String(row.handOvers).padStart(9),
        row.ok ? '  yes' : '   no',
      ].join(' '),
    );
  }
  for (const variant of variants) {
    const mine = rows.filter((row) => row.variant === variant.name);
    console.log(`${variant.name}: ${mine.filter((row) => row.ok).length} of ${mine.length} runs with a 202 p99 of 1 s at most, no 503 and everything delivered`);
  }
  return { handOvers: rows };
}
