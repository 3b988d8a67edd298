/**
 * `npm run bench` (`-- --quick`: the fixed load of each scenario, 5 s steps): each scenario on a
 * fresh stack, with the receiver's and Temporal's ceilings measured first on the first one; a
 * warm-up, the fixed load, then (full run) steps up or down to the highest sustained load, half of
 * it, and the fixed load again closed-loop. Prints a table and the steps' stalls.
 */
import { receiverCeiling, temporalCeiling } from '../ceilings';
import { rssMb } from '../../harness/processes';
import { createSubscriptions, startLoadStack } from '../../harness/stack';
import { chosenScenarios } from '../scenarios';
import { BACKOFF_SCALE, CONCURRENCY, printStalls, stepRunner, TEMPORAL_DESCRIPTION, type ModeReport, type StepResult } from '../step';
import type { OptionsOf } from '../options';
import type { TemporalKind } from '../../harness/stack';

interface ScenarioResult {
  description: string;
  subscriptions: number;
  fixed: StepResult;
  steps: StepResult[];
  highestSustainedPerSecond: number | null;
  halfLoad?: StepResult & { p99TargetMs: number; p99WithinTarget: boolean };
  closed?: StepResult;
}

export async function fullRun(options: OptionsOf<'full'>): Promise<ModeReport> {
  const { quick, temporal } = options;
  const runStep = stepRunner(options);
  const report: ModeReport = {};
  const results: Record<string, ScenarioResult> = {};
  const peakRss: Record<string, Record<string, number>> = {};
  for (const [index, scenario] of chosenScenarios(quick, options.scenarios).entries()) {
    // A fresh stack per scenario: an overloaded scenario's backlog must not slow the next one.
    const stack = await startLoadStack({ DELIVERY_BACKOFF_SCALE: BACKOFF_SCALE }, { temporal });
    try {
      if (index === 0) {
        const ceilingMs = quick ? 3_000 : 10_000;
        report.ceilings = { receiver: await receiverCeiling(stack, CONCURRENCY, ceilingMs), temporal: await temporalCeiling(stack, CONCURRENCY, ceilingMs) };
        console.error('ceilings', JSON.stringify(report.ceilings));
      }
      const partners = Array.from({ length: scenario.subscriptions }, (_, i) => `bench-${scenario.name}-${i}`);
      await createSubscriptions(stack, partners, scenario.batching);
      // Warm-up, not reported: JIT, the worker's workflow cache, the load client's connections.
      await runStep(stack, { ...scenario, name: `${scenario.name} warm-up` }, partners, Math.round(scenario.rate / 2));
      const fixed = await runStep(stack, scenario, partners, scenario.rate);
      console.error(scenario.name, 'fixed', JSON.stringify(fixed));
      const steps: StepResult[] = [];
      if (!quick) {
        // Step up (×1.5) from the fixed load while it is sustained; or down (×0.6) until it is.
        let rate = scenario.rate;
        let last = fixed;
        for (let i = 0; i < 3; i++) {
          rate = Math.round(last.sustained ? rate * 1.5 : rate * 0.6);
          last = await runStep(stack, scenario, partners, rate);
          steps.push(last);
          console.error(scenario.name, 'step', JSON.stringify(last));
          if (last.sustained !== fixed.sustained) break;
        }
      }
      const sustainedRates = [fixed, ...steps].filter((s) => s.sustained).map((s) => s.acceptedPerSecond);
      const highestSustainedPerSecond = sustainedRates.length ? Math.max(...sustainedRates) : null;
      // The latency target: at half the sustained load, end-to-end p99 within windowMs + 1 s.
      let halfLoad: ScenarioResult['halfLoad'];
      if (!quick && highestSustainedPerSecond) {
        const step = await runStep(stack, scenario, partners, Math.round(highestSustainedPerSecond / 2));
        const p99TargetMs = scenario.batching.windowMs + 1000;
        halfLoad = { ...step, p99TargetMs, p99WithinTarget: step.endToEndMs.p99 !== null && step.endToEndMs.p99 <= p99TargetMs };
        console.error(scenario.name, 'half load', JSON.stringify(halfLoad));
      }
      // The second figure: the fixed load from clients that each wait for their answer (closed loop).
      const closed = quick ? undefined : await runStep(stack, scenario, partners, scenario.rate, 'closed');
      if (closed) console.error(scenario.name, 'closed loop', JSON.stringify(closed));
      results[scenario.name] = { description: scenario.description, subscriptions: scenario.subscriptions, fixed, steps, highestSustainedPerSecond, halfLoad, closed };
      peakRss[scenario.name] = Object.fromEntries(Object.entries(stack.pids).map(([name, pid]) => [name, rssMb(pid, 'peak')]));
    } finally {
      await stack.stop();
    }
  }
  report.scenarios = results;
  report.peakRssMb = peakRss;
  printTable(report.ceilings as Ceilings, results, temporal);
  printStalls(
    Object.entries(results).flatMap(([name, value]) =>
      [value.fixed, ...value.steps, ...(value.halfLoad ? [value.halfLoad] : []), ...(value.closed ? [value.closed] : [])].map((step, i): [string, StepResult] => [`${name} ${i === 0 ? 'fixed' : step === value.halfLoad ? 'half' : step === value.closed ? 'closed' : `step ${i}`}`, step]),
    ),
  );
  return report;
}

interface Ceilings {
  receiver: { requestsPerSecond: number };
  temporal: { workflowsPerSecond: number };
}

function printTable(ceilings: Ceilings, scenarios: Record<string, ScenarioResult>, temporal: TemporalKind): void {
  console.log(`\nceilings: receiver ${ceilings.receiver.requestsPerSecond} batch POSTs/s; Temporal ${ceilings.temporal.workflowsPerSecond} bare workflows/s (one no-op activity each)`);
  console.log(`Temporal: ${TEMPORAL_DESCRIPTION[temporal]}`);
  console.log(
    `scenario  step      offered/s accepted/s  202 p50/p99 ms   e2e p50/p95/p99 ms  batches/s (of ceiling) cpu s per 1,000 events: all (temporal${temporal === 'cluster' ? '+pg' : ''}/worker/api) actions/1,000 history B/event wft failed ok`,
  );
  for (const [name, value] of Object.entries(scenarios)) {
    const rows = [value.fixed, ...value.steps, ...(value.halfLoad ? [value.halfLoad] : []), ...(value.closed ? [value.closed] : [])];
    for (const [i, step] of rows.entries()) {
      const share = ((step.batchesPerSecond / ceilings.temporal.workflowsPerSecond) * 100).toFixed(0);
      const per = step.cpuPerThousandEvents as Record<string, number>;
      console.log(
        [
          name.padEnd(9),
          (i === 0 ? 'fixed' : step === value.halfLoad ? 'half' : step === value.closed ? 'closed' : `step ${i}`).padEnd(9),
          String(step.offeredPerSecond).padStart(9),
          String(step.acceptedPerSecond).padStart(10),
          `${step.latency202Ms.p50}/${step.latency202Ms.p99}`.padStart(15),
          `${step.endToEndMs.p50}/${step.endToEndMs.p95}/${step.endToEndMs.p99}`.padStart(20),
          `${step.batchesPerSecond} (${share}%)`.padStart(22),
          `${per.total!.toFixed(2)} (${per.temporal!.toFixed(2)}${per.postgres === undefined ? '' : `+${per.postgres.toFixed(2)}`}/${per.worker!.toFixed(2)}/${per.api!.toFixed(2)})`.padStart(51),
          String(step.temporalPerThousandEvents.actions).padStart(13),
          String(step.temporalPerThousandEvents.historyBytesPerEvent).padStart(15),
          String(step.temporal.workflowTaskFailures).padStart(10),
          step.sustained ? 'yes' : ' no',
        ].join(' '),
      );
    }
  }
}
