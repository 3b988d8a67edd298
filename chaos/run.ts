/**
 * `npm run chaos`: every fault scenario against the real processes, each judged by the invariant
 * checker. `--only=worker-kill,history-kill` picks scenarios; `--quick` shortens the load.
 * Exits 1 if any scenario ends with a violation or fails to settle.
 */
import { clusterScenarios, scenarios as devScenarios, runScenario, type ScenarioResult } from './scenarios';

const args = process.argv.slice(2);
const only = args.find((arg) => arg.startsWith('--only='))?.slice('--only='.length).split(',');
const quick = args.includes('--quick');
const options = { loadMs: quick ? 12_000 : 30_000, settleMs: 120_000 };

// The dev-server scenarios, then the same load against a Temporal cluster's crashing parts.
const scenarios = [...devScenarios, ...clusterScenarios];
const chosen = only ? scenarios.filter((scenario) => only.includes(scenario.name)) : scenarios;
if (only && chosen.length !== only.length) {
  console.error(`unknown scenario; known: ${scenarios.map((scenario) => scenario.name).join(', ')}`);
  process.exit(2);
}

// Ctrl-C: exit normally, so each cluster's exit hook kills the processes it started.
process.once('SIGINT', () => process.exit(130));

const results: ScenarioResult[] = [];
for (const scenario of chosen) {
  console.log(`\n== ${scenario.name}: ${scenario.summary}`);
  const result = await runScenario(scenario, options, (line) => console.log(`   ${line}`));
  results.push(result);
  const { verdict } = result;
  console.log(
    `   acknowledged ${verdict.acknowledgedEvents}, delivered ${verdict.deliveredEvents} in ${verdict.batches} batches` +
      ` (${verdict.repeatedDeliveries} repeated deliveries), settled in ${result.settledInMs === null ? 'never' : `${(result.settledInMs / 1000).toFixed(1)} s`}`,
  );
  console.log(`   answers to producers: ${JSON.stringify(result.answers)}; retried requests: ${result.retries}`);
  for (const note of result.notes) console.log(`   ${note}`);
  for (const example of verdict.examples) console.log(`   ! ${example}`);
}

console.log('\nscenario            undelivered  split  changed  rule  verdict');
for (const { name, verdict, violations, settledInMs } of results) {
  const ok = violations === 0 && settledInMs !== null;
  console.log(
    `${name.padEnd(20)}${String(verdict.undelivered).padStart(11)}${String(verdict.splitEvents).padStart(7)}` +
      `${String(verdict.changedBatches).padStart(9)}${String(verdict.ruleViolations).padStart(6)}  ${ok ? 'ok' : 'FAILED'}`,
  );
}
process.exit(results.every((result) => result.violations === 0 && result.settledInMs !== null) ? 0 : 1);
