/** Prints a results file of `npm run bench` as the Markdown table in docs/performance.md: `npx tsx bench/report.ts <file>`. */
import { readFileSync } from 'node:fs';

interface Step {
  backlogAtStart?: number;
  offeredPerSecond: number;
  acceptedPerSecond: number;
  latency202Ms: { p50: number | null; p99: number | null };
  endToEndMs: { p50: number | null; p95: number | null; p99: number | null };
  deliveredEventsPerSecond: number;
  batchesPerSecond: number;
  httpRequestsPerDeliveredEvent: number;
  cpuSeconds: { temporal: number; worker: number; api: number };
  sustained: boolean;
}
const report = JSON.parse(readFileSync(process.argv[2]!, 'utf8')) as {
  ceilings: { receiver: { requestsPerSecond: number }; temporal: { workflowsPerSecond: number } };
  scenarios: Record<string, { subscriptions: number; fixed: Step; steps: Step[]; highestSustainedPerSecond: number | null }>;
};
const ceiling = report.ceilings.temporal.workflowsPerSecond;
console.log(`Ceilings: receiver ${report.ceilings.receiver.requestsPerSecond} batch POSTs/s; Temporal ${ceiling} bare workflows/s.\n`);
console.log('| scenario | step | offered/s | accepted/s | 202 p50 / p99 ms | end-to-end p50 / p95 / p99 ms | delivered/s | batches/s (of ceiling) | requests/event | CPU s server / worker / API | sustained |');
console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |');
for (const [name, scenario] of Object.entries(report.scenarios)) {
  for (const [i, s] of [scenario.fixed, ...scenario.steps].entries()) {
    const backlog = s.backlogAtStart ? ` (backlog ${s.backlogAtStart})` : '';
    console.log(
      `| ${i === 0 ? `${name} (${scenario.subscriptions})` : ''} | ${i === 0 ? 'fixed' : `step ${i}`}${backlog} | ${s.offeredPerSecond} | ${s.acceptedPerSecond} | ${s.latency202Ms.p50} / ${s.latency202Ms.p99} | ${s.endToEndMs.p50} / ${s.endToEndMs.p95} / ${s.endToEndMs.p99} | ${s.deliveredEventsPerSecond} | ${s.batchesPerSecond} (${Math.round((s.batchesPerSecond / ceiling) * 100)}%) | ${s.httpRequestsPerDeliveredEvent} | ${s.cpuSeconds.temporal} / ${s.cpuSeconds.worker} / ${s.cpuSeconds.api} | ${s.sustained ? 'yes' : 'no'} |`,
    );
  }
}
console.log('');
for (const [name, scenario] of Object.entries(report.scenarios)) console.log(`- ${name}: highest sustained ${scenario.highestSustainedPerSecond ?? 'none of the steps'} events/s`);
