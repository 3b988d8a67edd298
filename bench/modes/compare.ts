/**
 * A/B in one run (`--encryption=compare`, `--catalog=compare`, `--against=<revision>`,
 * `--compare-env=NAME=value[,…]`): each scenario on fresh stacks for A, B, B, A (so drift over the
 * run falls on both sides equally). On each stack an unmeasured warm-up step, then a moderate load
 * and one beyond what the stack takes, open loop (`--loads=` sets them). Prints each step and, per
 * scenario and load, B ÷ A of CPU per 1,000 events, Temporal actions per 1,000 events and accepted/s.
 */
import { receiverCeiling, temporalCeiling } from '../ceilings';
import { createSubscriptions, startLoadStack } from '../../harness/stack';
import { chosenScenarios } from '../scenarios';
import { BACKOFF_SCALE, CONCURRENCY, printStalls, stepRunner, TEMPORAL_DESCRIPTION, type ModeReport, type StepResult } from '../step';
import { variantsOf } from '../variants';
import type { OptionsOf } from '../options';

export async function compareRun(options: OptionsOf<'compare'>): Promise<ModeReport> {
  const { comparison } = options.mode;
  const { temporal, loads } = options;
  const runStep = stepRunner(options);
  // The results file's key for the rows: `encryption`, `catalog`, `revision` or `env`.
  const label = comparison.kind;
  const [a, b] = variantsOf(comparison);
  const report: ModeReport = {};
  const rows: (StepResult & { scenario: string; run: number; variant: string; load: string })[] = [];
  for (const scenario of chosenScenarios(options.quick, options.scenarios).filter((s) => s.name in loads)) {
    for (const [run, variant] of [a, b, b, a].entries()) {
      const stack = await startLoadStack({ DELIVERY_BACKOFF_SCALE: BACKOFF_SCALE, ...variant.env }, { temporal, root: variant.root });
      try {
        if (!report.ceilings) {
          // Once, on the first stack: the ratios to Temporal's ceiling are then within this run too.
          report.ceilings = { receiver: await receiverCeiling(stack, CONCURRENCY, 10_000), temporal: await temporalCeiling(stack, CONCURRENCY, 10_000) };
          console.log(`ceilings: ${JSON.stringify(report.ceilings)}`);
        }
        await variant.prepare?.(stack);
        const partners = Array.from({ length: scenario.subscriptions }, (_, i) => `bench-${scenario.name}-${run}-${i}`);
        await createSubscriptions(stack, partners, scenario.batching);
        // Warm-up, not reported: JIT, the worker's workflow cache, the first continue-as-new.
        await runStep(stack, scenario, partners, loads[scenario.name]!.moderate);
        for (const [load, rate] of Object.entries(loads[scenario.name]!)) {
          const step = await runStep(stack, scenario, partners, rate);
          const row = { scenario: scenario.name, run, variant: variant.name, load, ...step };
          console.error(label, JSON.stringify({ ...row, temporal: undefined }));
          rows.push(row);
        }
      } finally {
        await stack.stop();
      }
    }
  }
  console.log(`\nTemporal: ${TEMPORAL_DESCRIPTION[temporal]}`);
  console.log(`scenario  load      ${label.padEnd(14)} offered/s accepted/s 202 p50/p99 ms  e2e p99 ms  cpu s per 1,000 events: all (temporal/worker/api)  actions/1,000  wft failed  sustained`);
  for (const row of rows) {
    const per = row.cpuPerThousandEvents as Record<string, number>;
    console.log(
      [
        row.scenario.padEnd(9),
        row.load.padEnd(9),
        row.variant.padEnd(14),
        String(row.offeredPerSecond).padStart(9),
        String(row.acceptedPerSecond).padStart(10),
        `${row.latency202Ms.p50}/${row.latency202Ms.p99}`.padStart(15),
        String(row.endToEndMs.p99).padStart(11),
        `${per.total!.toFixed(2)} (${per.temporal!.toFixed(2)}${per.postgres === undefined ? '' : `+${per.postgres.toFixed(2)}`}/${per.worker!.toFixed(2)}/${per.api!.toFixed(2)})`.padStart(50),
        String(row.temporalPerThousandEvents.actions).padStart(14),
        String(row.temporal.workflowTaskFailures).padStart(11),
        row.sustained ? '  yes' : '   no',
      ].join(' '),
    );
  }
  printStalls(rows.map((row) => [`${row.scenario} ${row.load} ${row.variant} (stack ${row.run})`, row]));
  // Ratios: the mean of B's two stacks over the mean of A's, per scenario and load.
  const mean = (values: number[]) => values.reduce((sum, v) => sum + v, 0) / Math.max(1, values.length);
  const ratios: Record<string, Record<string, number>> = {};
  console.log(`\n${b.name} ÷ ${a.name} (means of the two stacks of each):`);
  for (const scenario of new Set(rows.map((row) => row.scenario))) {
    for (const load of ['moderate', 'overload']) {
      const side = (name: string) => rows.filter((row) => row.scenario === scenario && row.load === load && row.variant === name);
      const ratio = (pick: (row: (typeof rows)[number]) => number) => +(mean(side(b.name).map(pick)) / mean(side(a.name).map(pick))).toFixed(2);
      const entry = {
        cpuPerThousandEvents: ratio((row) => (row.cpuPerThousandEvents as Record<string, number>).total!),
        actionsPerThousandEvents: ratio((row) => row.temporalPerThousandEvents.actions),
        historyBytesPerEvent: ratio((row) => row.temporalPerThousandEvents.historyBytesPerEvent),
        acceptedPerSecond: ratio((row) => row.acceptedPerSecond),
      };
      ratios[`${scenario} ${load}`] = entry;
      console.log(`  ${scenario.padEnd(9)} ${load.padEnd(9)} CPU per 1,000 events ${entry.cpuPerThousandEvents}, actions per 1,000 events ${entry.actionsPerThousandEvents}, history bytes per event ${entry.historyBytesPerEvent}, accepted/s ${entry.acceptedPerSecond}`);
    }
  }
  report[label] = { variants: [a.name, b.name], rows, ratios };
  return report;
}
