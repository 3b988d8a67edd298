/**
 * `npm run bench -- --peer=svix`: the same work through this product and through Svix's server, one
 * system on the machine at a time, with the same receiver and the same open-loop load generator
 * (the cases: bench/scenarios.ts `peerCases`). Each system on a fresh stack per case (ours first in
 * one case, Svix first in the next, so drift over the run falls on both), an unmeasured warm-up
 * step where the case has one, then the case's loads. Ours at windowMs 1,000 and maxEvents 100
 * unless the case says otherwise; Svix at its own settings, as SVIX_SETTINGS in bench/peers/svix.ts
 * says. `--scenario=` picks cases by key.
 */
import { temporalCeiling } from '../ceilings';
import { createSubscriptions, startLoadStack } from '../../harness/stack';
import { peerCases } from '../scenarios';
import { BACKOFF_SCALE, CONCURRENCY, stepRunner, TEMPORAL_DESCRIPTION, type ModeReport, type StepResult } from '../step';
import type { OptionsOf } from '../options';

export async function peerRun(options: OptionsOf<'peer'>): Promise<ModeReport> {
  const runStep = stepRunner(options);
  const cases = peerCases(options.quick).filter(({ key }) => !options.scenarios || options.scenarios.includes(key));
  const { buildSvix, startSvixStack, SVIX_COMMIT, SVIX_SETTINGS } = await import('../peers/svix');
  const binary = buildSvix();
  const rows: (StepResult & { case: string; system: string })[] = [];
  let ceilings: Record<string, unknown> | undefined;
  for (const [index, { scenario, loads, warmUp }] of cases.entries()) {
    const systems = index % 2 === 0 ? (['webhooks', 'svix'] as const) : (['svix', 'webhooks'] as const);
    for (const system of systems) {
      // Each side's stack, and how it makes the case's endpoints: Svix applications, or our subscriptions.
      const [stack, createEndpoints] =
        system === 'svix'
          ? await startSvixStack(binary).then((svix) => [svix, () => svix.createApps(scenario.subscriptions)] as const)
          : await startLoadStack({ DELIVERY_BACKOFF_SCALE: BACKOFF_SCALE }, { temporal: options.temporal }).then(
              (ours) =>
                [
                  ours,
                  async () => {
                    const partners = Array.from({ length: scenario.subscriptions }, (_, i) => `peer-${index}-${i}`);
                    await createSubscriptions(ours, partners, scenario.batching);
                    return partners;
                  },
                ] as const,
            );
      try {
        if (!ceilings && 'client' in stack) {
          // Once, on our first stack: what this Temporal does with bare workflows, the floor of a batch.
          ceilings = { temporal: await temporalCeiling(stack, CONCURRENCY, 10_000) };
          console.log(`ceilings: ${JSON.stringify(ceilings)}`);
        }
        const partners = await createEndpoints();
        if (warmUp !== false) await runStep(stack, scenario, partners, loads[0]!); // warm-up, not reported
        for (const rate of loads) {
          const row = { case: scenario.name, system, ...(await runStep(stack, scenario, partners, rate)) };
          console.error('peer', JSON.stringify({ ...row, timeline: undefined, temporal: undefined }));
          rows.push(row);
        }
      } finally {
        await stack.stop();
      }
    }
  }
  console.log(`\nthis product (Temporal: ${TEMPORAL_DESCRIPTION[options.temporal]}) beside svix-server ${SVIX_COMMIT.slice(0, 9)}, one at a time, open loop`);
  console.log('case           system    offered/s accepted/s delivered/s  202 p50/p99 ms  e2e p50/p99 ms  requests/event  cpu s per 1,000 events: all (per process)                 peak MiB');
  for (const row of rows) {
    const per = row.cpuPerThousandEvents as Record<string, number>;
    const processes = Object.entries(per).filter(([name]) => name !== 'total' && name !== 'load').map(([name, value]) => `${name} ${value.toFixed(2)}`).join(', ');
    console.log(
      [
        row.case.padEnd(14),
        row.system.padEnd(9),
        String(row.offeredPerSecond).padStart(9),
        String(row.acceptedPerSecond).padStart(10),
        String(row.deliveredEventsPerSecond).padStart(11),
        `${row.latency202Ms.p50}/${row.latency202Ms.p99}`.padStart(15),
        `${row.endToEndMs.p50}/${row.endToEndMs.p99}`.padStart(15),
        String(row.httpRequestsPerDeliveredEvent).padStart(15),
        `${per.total!.toFixed(2)} (${processes})`.padEnd(58),
        Object.entries(row.peakRssMb).map(([name, mb]) => `${name} ${mb}`).join(', '),
      ].join(' '),
    );
  }
  return { peer: { svixCommit: SVIX_COMMIT, svixSettings: SVIX_SETTINGS, ceilings, cases: cases.map(({ scenario, loads }) => ({ ...scenario, loads })), rows } };
}
