/**
 * `npm run bench -- --shedding`: for one subscription taking single events (`hot`) and arrays of
 * 100 (`hot-array`), the highest load a fresh stack sustains (stepping up ×1.25 from SHEDDING_START
 * until a step is not), then twice that on another fresh stack, open loop, over
 * SHEDDING_CONNECTIONS connections so that the producers' own pool is not what limits them. The
 * target (issue #26): at twice the sustained load the accepted requests keep a 202 p99 of 1 s at
 * most, the others get 503 with Retry-After within 50 ms, and every accepted event arrives.
 */
import { createSubscriptions, startLoadStack, type LoadStack } from '../../harness/stack';
import { chosenScenarios, SHEDDING_START } from '../scenarios';
import { BACKOFF_SCALE, stepRunner, summaryOf, SUSTAINED_202_P99_MS, TEMPORAL_DESCRIPTION, type ModeReport, type StepResult } from '../step';
import type { OptionsOf } from '../options';

const SHEDDING_CONNECTIONS = 1000;

export async function sheddingRun(options: OptionsOf<'shedding'>): Promise<ModeReport> {
  const runStep = stepRunner(options);
  const rows: Record<string, unknown>[] = [];
  for (const scenario of chosenScenarios(options.quick, options.scenarios).filter((s) => s.name in SHEDDING_START)) {
    const start = SHEDDING_START[scenario.name]!;
    const partners = [`bench-shedding-${scenario.name}`];
    const onFreshStack = async <T>(run: (stack: LoadStack) => Promise<T>): Promise<T> => {
      const stack = await startLoadStack({ DELIVERY_BACKOFF_SCALE: BACKOFF_SCALE }, { temporal: options.temporal });
      try {
        await createSubscriptions(stack, partners, scenario.batching);
        await runStep(stack, scenario, partners, Math.round(start / 2)); // warm-up, not reported
        return await run(stack);
      } finally {
        await stack.stop();
      }
    };
    const ladder = await onFreshStack(async (stack) => {
      const steps: StepResult[] = [];
      for (let rate = start; steps.length < 6; rate = Math.round(rate * 1.25)) {
        const step = await runStep(stack, scenario, partners, rate);
        console.error('shedding', scenario.name, 'ladder', JSON.stringify({ ...step, timeline: undefined, temporal: undefined }));
        steps.push(step);
        if (!step.sustained) break;
      }
      return steps;
    });
    const sustained = ladder.filter((step) => step.sustained).at(-1);
    if (!sustained) {
      rows.push({ scenario: scenario.name, ladder: ladder.map(summaryOf), sustainedPerSecond: null });
      continue;
    }
    const rate = 2 * sustained.offeredPerSecond;
    const overload = await onFreshStack((stack) => runStep(stack, { ...scenario, connections: SHEDDING_CONNECTIONS }, partners, rate));
    const refused = overload.errors['503'] ?? 0;
    const withRetryAfter = Object.values(overload.retryAfter).reduce((sum, n) => sum + n, 0);
    const met = (overload.latency202Ms.p99 ?? Infinity) <= SUSTAINED_202_P99_MS && (refused === 0 || (overload.latency503Ms.p99 ?? Infinity) <= 50) && withRetryAfter === refused && overload.undelivered === 0;
    rows.push({ scenario: scenario.name, ladder: ladder.map(summaryOf), sustainedPerSecond: sustained.offeredPerSecond, overload: { ...overload, timeline: undefined }, refused, withRetryAfter, met });
  }
  console.log(`\nTemporal: ${TEMPORAL_DESCRIPTION[options.temporal]}; one subscription, open loop; twice the highest sustained load over ${SHEDDING_CONNECTIONS} connections, a fresh stack`);
  console.log('scenario    sustained/s  offered/s  accepted/s  202 p50/p99 ms  503s  503 p50/p99 ms  with Retry-After  undelivered  met');
  for (const row of rows) {
    const step = row.overload as StepResult | undefined;
    if (!step) {
      console.log(`${String(row.scenario).padEnd(11)} no load was sustained`);
      continue;
    }
    console.log(
      [
        String(row.scenario).padEnd(11),
        String(row.sustainedPerSecond).padStart(11),
        String(step.offeredPerSecond).padStart(10),
        String(step.acceptedPerSecond).padStart(11),
        `${step.latency202Ms.p50}/${step.latency202Ms.p99}`.padStart(15),
        String(row.refused).padStart(5),
        `${step.latency503Ms.p50 ?? '-'}/${step.latency503Ms.p99 ?? '-'}`.padStart(15),
        String(row.withRetryAfter).padStart(17),
        String(step.undelivered).padStart(12),
        row.met ? '  yes' : '   no',
      ].join(' '),
    );
  }
  return { shedding: rows };
}
