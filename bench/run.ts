/**
 * `npm run bench`: the real stack on this machine, load from a separate process, measured step by
 * step (bench/step.ts). The command line (bench/options.ts) picks one mode, each in bench/modes/:
 * a full run of the scenarios (`--quick` for a run of a few minutes), `--profile`, an A/B
 * comparison (`--encryption=compare`, `--catalog=compare`, `--against=<revision>`,
 * `--compare-env=NAME=value`), `--hand-overs[=N]`, `--restarts`, `--shedding`, `--neighbours`,
 * `--peer=svix`, `--startup`; `--temporal=cluster` runs on a Temporal cluster as `npm run cluster` runs it
 * instead of the dev server. docs/performance.md lists them. Prints tables; writes JSON with the
 * machine's description under bench/results/, in the compact form of bench/compact.ts.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { join } from 'node:path';
import { root } from '../harness/processes';
import { compactReport } from './compact';
import { compareRun } from './modes/compare';
import { fullRun } from './modes/full';
import { handOversRun } from './modes/hand-overs';
import { neighboursRun } from './modes/neighbours';
import { peerRun } from './modes/peer';
import { profileRun } from './modes/profile';
import { restartsRun } from './modes/restarts';
import { sheddingRun } from './modes/shedding';
import { startupRun } from './modes/startup';
import { BenchOptionsError, parseBenchOptions, resultsPrefix, type BenchOptions } from './options';
import { liveStacks } from '../harness/stack';
import { BACKOFF_SCALE, CONCURRENCY, killLoad, stepSecondsOf, SUSTAINED_202_P99_MS, TEMPORAL_DESCRIPTION, type ModeReport } from './step';

function runMode(options: BenchOptions): Promise<ModeReport> {
  const { mode } = options;
  switch (mode.name) {
    case 'full':
      return fullRun({ ...options, mode });
    case 'profile':
      return profileRun({ ...options, mode });
    case 'compare':
      return compareRun({ ...options, mode });
    case 'hand-overs':
      return handOversRun({ ...options, mode });
    case 'restarts':
      return restartsRun({ ...options, mode });
    case 'shedding':
      return sheddingRun({ ...options, mode });
    case 'neighbours':
      return neighboursRun({ ...options, mode });
    case 'peer':
      return peerRun({ ...options, mode });
    case 'startup':
      return startupRun({ ...options, mode });
  }
}

async function main(options: BenchOptions): Promise<void> {
  const header = {
    date: new Date().toISOString(),
    // What the steps' lengths were (a mode's own name is in the file's name).
    mode: options.quick ? 'quick' : 'full',
    machine: { cores: cpus().length, cpu: cpus()[0]?.model, memoryGb: Math.round(totalmem() / 2 ** 30), node: process.version, temporal: TEMPORAL_DESCRIPTION[options.temporal] },
    settings: { concurrency: CONCURRENCY, stepSeconds: stepSecondsOf(options.quick), deliveryBackoffScale: BACKOFF_SCALE, ingestSignalIntervalMs: process.env.INGEST_SIGNAL_INTERVAL_MS ?? 'the default of the code run' },
    sustainedWhen: `accepted ≥ 95% of offered, 202 p99 ≤ ${SUSTAINED_202_P99_MS} ms, all delivered`,
  };
  const body = await runMode(options);
  // Every results file has `scenarios` and `peakRssMb`, empty but for a full run's.
  const report = { ...header, ...body, scenarios: body.scenarios ?? {}, peakRssMb: body.peakRssMb ?? {} };
  mkdirSync(join(root, 'bench/results'), { recursive: true });
  const file = join(root, `bench/results/${resultsPrefix(options)}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(compactReport(report), null, 2) + '\n');
  console.log(`\nwritten: ${file}`);
  process.exit(0);
}

let options: BenchOptions;
try {
  options = parseBenchOptions(process.argv.slice(2));
} catch (err) {
  if (!(err instanceof BenchOptionsError)) throw err;
  console.error(`bench: ${err.message}`);
  process.exit(2);
}

let stoppingOnSignal = false;
// Stopped by a signal: stop the stacks first (their processes are this command's children), then exit.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    stoppingOnSignal = true;
    console.error(`bench: ${signal}: stopping ${liveStacks.size} stack(s)`);
    killLoad();
    void Promise.allSettled([...liveStacks].map((stack) => stack.stop())).then(() => process.exit(130));
  });
}

main(options).catch((err: unknown) => {
  // Stopped by a signal, the step in progress fails: the signal's handler exits once the stacks are down.
  if (stoppingOnSignal) return;
  console.error(err);
  // A failed benchmark stops its stacks too: their processes are this command's children.
  void Promise.allSettled([...liveStacks].map((stack) => stack.stop())).then(() => process.exit(1));
});
