/**
 * `npm run bench -- --profile`: the hot scenario's fixed load on a fresh stack with the worker and
 * the API under `--cpu-prof`; then every thread's profile summarised by package and by function
 * (bench/profile-summary.ts).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { threadProfiles } from '../profile-summary';
import { createSubscription, startLoadStack } from '../../harness/stack';
import { chosenScenarios } from '../scenarios';
import { BACKOFF_SCALE, stepRunner, type ModeReport } from '../step';
import type { OptionsOf } from '../options';

export async function profileRun(options: OptionsOf<'profile'>): Promise<ModeReport> {
  const runStep = stepRunner(options);
  const report: ModeReport = {};
  const scenario = chosenScenarios(options.quick, ['hot'])[0]!;
  const profileDir = mkdtempSync(join(tmpdir(), 'webhooks-profile-'));
  const stack = await startLoadStack({ DELIVERY_BACKOFF_SCALE: BACKOFF_SCALE }, { profileDir, temporal: options.temporal });
  try {
    const partners = ['bench-profile-0'];
    await createSubscription(stack, partners[0]!, scenario.batching);
    const step = await runStep(stack, scenario, partners, scenario.rate);
    console.error('profiled step', JSON.stringify(step));
    // The worker and the API write their profiles as they exit.
    await stack.stop();
    report.profiledStep = step;
    const profiles = Object.fromEntries(['worker', 'api'].map((name) => [name, threadProfiles(join(profileDir, name))]));
    report.profiles = profiles;
    printProfiles(profiles, step.cpuSeconds);
  } finally {
    await stack.stop();
  }
  return report;
}

function printProfiles(profiles: Record<string, ReturnType<typeof threadProfiles>>, cpu: Record<string, number>): void {
  for (const [name, threads] of Object.entries(profiles)) {
    const busy = threads.map(({ thread, summary }) => `thread ${thread} ${summary.busySeconds.toFixed(1)} s`).join(', ');
    console.log(`\n${name}: process CPU in the step ${cpu[name]} s; JavaScript busy by thread (whole run): ${busy}; the rest is native (Temporal's Rust core, GC helpers, I/O)`);
    for (const { thread, summary } of threads.filter((t) => t.summary.busySeconds >= 0.5)) {
      console.log(`  thread ${thread} by package: ` + summary.byGroup.map((g) => `${g.group} ${g.share}%`).join(', '));
      for (const f of summary.topFunctions.slice(0, 8)) console.log(`    ${String(f.share).padStart(5)}%  ${f.name}  (${f.where})`);
    }
  }
}
