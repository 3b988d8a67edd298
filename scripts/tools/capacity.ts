/**
 * `npm run capacity -- --events-per-second=2000 --partners=5000 --window-ms=5000`: what a workload
 * needs (Temporal cores, worker and API processes, Temporal Cloud actions), from the unit costs in
 * bench/unit-costs.json (domain/capacity.ts has the model, docs/capacity.md the why).
 *
 * `npm run capacity -- --fit bench/results/<file>.json[#scenario,…] …`: fits those unit costs to
 * the benchmark's steps in the files (the working tree's, where a file compares revisions), writes
 * bench/unit-costs.json (or `--out=`), and prints how well each step is predicted from a fit
 * without its stack. `--costs=<file>` plans with another fit (bench/unit-costs-cluster.json: a
 * Temporal cluster's, with PostgreSQL's transactions).
 */
import { fileURLToPath } from 'node:url';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { execFileSync } from 'node:child_process';
import { fitUnitCosts, leaveGroupOut, measuredCosts, plan, type Measured, type UnitCosts, type Workload } from '../../domain/capacity';

const root = fileURLToPath(new URL('../..', import.meta.url));

const COSTS_FILE = join(root, 'bench/unit-costs.json');

interface CostsFile {
  fittedAt: string;
  commit: string;
  sources: string[];
  temporal: string;
  steps: number;
  units: UnitCosts;
  check: Record<string, { label: string; measured: number; predicted: number; error: number }[]>;
}

/** A benchmark step as results files hold it (bench/step.ts `runStep`; compact: bench/compact.ts). */
interface StepRecord {
  acceptedCount: number;
  /** Missing in steps recorded before 2026-12-07 16:15. */
  stepSeconds?: number;
  endToEndMs: { p99: number | null };
  cpuSeconds: Record<string, number>;
  sustained: boolean;
  temporal: { signals: number; childStarts: number; actions: number; historyBytes: number };
  /** On the cluster, since 2026-12-07 evening. */
  postgresTransactionsPerThousandEvents?: number;
}

function args(): Map<string, string> {
  const map = new Map<string, string>();
  for (const arg of process.argv.slice(2)) {
    const [key, value] = arg.replace(/^--/, '').split('=');
    map.set(key!, value ?? 'true');
  }
  return map;
}

/**
 * The steps of a results file that can teach unit costs: sustained ones (all accepted and
 * delivered, 202 p99 within 1 s), of the working tree where a file compares revisions. An
 * overloaded step leaves a backlog that the next step pays for.
 */
function stepsOf(source: string): (Measured & { scenario: string; group: string })[] {
  // `file#hot,hot-array`: only those scenarios of the file.
  const [file, only] = source.split('#') as [string, string | undefined];
  const wanted = only?.split(',');
  const report = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  const found: { scenario: string; label: string; group: string; step: StepRecord; subscriptions?: number }[] = [];
  // An A/B of revisions (`--against`): the working tree's side; of settings (`--compare-env`): the defaults' side.
  type ComparedRow = StepRecord & { scenario: string; variant: string; load: string; run: number };
  const compared = [...((report.revision as { rows?: ComparedRow[] } | undefined)?.rows?.filter((row) => row.variant === 'working tree') ?? []), ...((report.env as { rows?: ComparedRow[] } | undefined)?.rows?.filter((row) => row.variant === 'defaults') ?? [])];
  for (const row of compared) found.push({ scenario: row.scenario, label: `${row.scenario} ${row.load} (stack ${row.run})`, group: `${file} stack ${row.run}`, step: row });
  // A peer comparison (--peer=svix): our side of each case whose endpoints do not fail.
  const peer = report.peer as { cases: { name: string; subscriptions: number; failRatio?: number }[]; rows: (StepRecord & { case: string; system: string })[] } | undefined;
  for (const [i, row] of (peer?.rows ?? []).entries()) {
    const shape = peer!.cases.find((c) => c.name === row.case);
    if (row.system !== 'webhooks' || !shape || shape.failRatio) continue;
    found.push({ scenario: row.case, label: `${row.case} step ${i}`, group: `${file} ${row.case}`, step: row, subscriptions: shape.subscriptions });
  }
  const scenarios = report.scenarios as Record<string, { fixed: StepRecord; steps?: StepRecord[]; halfLoad?: StepRecord }> | undefined;
  for (const [name, value] of Object.entries(scenarios ?? {})) {
    [value.fixed, ...(value.steps ?? []), ...(value.halfLoad ? [value.halfLoad] : [])].forEach((step, i) => found.push({ scenario: name, label: `${name} step ${i}`, group: `${file} ${name} step ${i}`, step }));
  }
  return found
    .filter(({ scenario, step }) => step.sustained && step.temporal && step.acceptedCount > 0 && (!wanted || wanted.includes(scenario)))
    .map(({ scenario, label, group, step, subscriptions }) => ({
      scenario,
      group,
      label: `${relative(root, file)}: ${label}`,
      // Totals over the step (load and settling): unit costs come out per signal, batch and event.
      signalsPerSecond: step.temporal.signals,
      batchesPerSecond: step.temporal.childStarts,
      eventsPerSecond: step.acceptedCount,
      requestsPerSecond: step.acceptedCount / (EVENTS_PER_REQUEST[scenario] ?? 1),
      subscriptions: (subscriptions ?? SUBSCRIPTIONS[scenario] ?? 1) * stepSecondsOf(step),
      costs: {
        temporalCpu: step.cpuSeconds.temporal! + (step.cpuSeconds.postgres ?? 0),
        workerCpu: step.cpuSeconds.worker!,
        apiCpu: step.cpuSeconds.api!,
        actions: step.temporal.actions,
        historyBytes: step.temporal.historyBytes,
        ...(step.postgresTransactionsPerThousandEvents === undefined ? {} : { postgresTransactions: (step.postgresTransactionsPerThousandEvents * step.acceptedCount) / 1000 }),
      },
    }));
}

/** The benchmark's scenario sizes (bench/scenarios.ts, full mode), for the subscription-seconds of a step. */
const SUBSCRIPTIONS: Record<string, number> = { hot: 1, 'hot-array': 1, shared: 100, sparse: 1000, failing: 1 };
const EVENTS_PER_REQUEST: Record<string, number> = { 'hot-array': 100 };

/** A step's length, load and settling: recorded since 2026-12-07; before, the 15 s load plus its last arrival's lag. */
function stepSecondsOf(step: StepRecord): number {
  return step.stepSeconds ?? 15 + (step.endToEndMs.p99 ?? 0) / 1000;
}

function fit(files: string[], outFile: string): void {
  const rows = files.flatMap(stepsOf);
  if (new Set(rows.map((row) => row.scenario)).size < 3 || new Set(rows.map((row) => row.group)).size < 2) throw new Error(`--fit needs sustained steps of at least three scenarios, from two stacks or more; these files have ${rows.length} steps of ${[...new Set(rows.map((r) => r.scenario))].join(', ') || 'none'}`);
  const units = fitUnitCosts(rows);
  const names = measuredCosts(rows);
  const check = Object.fromEntries(names.map((name) => [name, leaveGroupOut(rows, name)]));
  const temporal = [...new Set(files.map((source) => (JSON.parse(readFileSync(source.split('#')[0]!, 'utf8')) as { machine?: { temporal?: string } }).machine?.temporal ?? 'unknown'))].join('; ');
  const out: CostsFile = {
    fittedAt: new Date().toISOString(),
    commit: execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim(),
    sources: files.map((source) => relative(root, source)),
    temporal,
    steps: rows.length,
    units,
    check,
  };
  writeFileSync(outFile, JSON.stringify(out, null, 2) + '\n');
  console.log(`unit costs from ${rows.length} steps, written to ${relative(root, outFile)}:`);
  for (const name of names) {
    const u = units[name]!;
    console.log(`  ${name.padEnd(13)} per request ${fmt(u.perRequest)}, per signal ${fmt(u.perSignal)}, per batch ${fmt(u.perBatch)}, per event ${fmt(u.perEvent)}, per subscription-second ${fmt(u.perSubscriptionSecond)}`);
  }
  console.log('\neach step predicted from a fit without its stack (prediction ÷ measured − 1):');
  for (const [i, row] of rows.entries()) {
    const errors = names.map((name) => `${name} ${(check[name]![i]!.error * 100).toFixed(0)}%`).join(', ');
    console.log(`  ${row.label}: CPU in all ${(totalCpuError(check, i) * 100).toFixed(0)}%; ${errors}`);
  }
}

/** The error on the CPU of all three parts together, which is what a plan provisions. */
function totalCpuError(check: CostsFile['check'], i: number): number {
  const parts = (['temporalCpu', 'workerCpu', 'apiCpu'] as const).map((name) => check[name]![i]!);
  return parts.reduce((sum, p) => sum + p.predicted, 0) / parts.reduce((sum, p) => sum + p.measured, 0) - 1;
}

function fmt(value: number): string {
  return value >= 100 ? value.toFixed(0) : value.toPrecision(3);
}

function show(options: Map<string, string>): void {
  const number = (name: string, fallback?: number) => {
    const raw = options.get(name);
    if (raw === undefined) {
      if (fallback === undefined) throw new Error(`--${name}=<number> is needed (npm run capacity -- --events-per-second=2000 --partners=5000 --window-ms=5000)`);
      return fallback;
    }
    const value = Number(raw);
    if (!Number.isFinite(value) || value <= 0) throw new Error(`--${name}: a positive number, not ${raw}`);
    return value;
  };
  const costs = JSON.parse(readFileSync(options.get('costs') ?? COSTS_FILE, 'utf8')) as CostsFile;
  const workload: Workload = {
    eventsPerSecond: number('events-per-second'),
    subscriptions: number('partners') * number('subscriptions-per-partner', 1),
    windowMs: number('window-ms', 1000),
    maxEvents: number('max-events', 100),
    eventsPerRequest: number('events-per-request', 1),
    signalIntervalMs: number('signal-interval-ms', 100),
  };
  const utilization = number('utilization', 0.6);
  const result = plan(workload, costs.units, utilization);
  const r = result.rates;
  console.log(`workload: ${workload.eventsPerSecond} events/s over ${workload.subscriptions} subscriptions (windowMs ${workload.windowMs}, maxEvents ${workload.maxEvents}, ${workload.eventsPerRequest} event(s) a request)`);
  console.log(`rates: ${r.requestsPerSecond.toFixed(0)} requests/s, ${r.signalsPerSecond.toFixed(0)} signals/s, ${r.batchesPerSecond.toFixed(1)} batches/s (${(r.eventsPerSecond / Math.max(r.batchesPerSecond, 1e-9)).toFixed(1)} events a batch)`);
  console.log(`CPU busy: Temporal ${result.cores.temporal.toFixed(2)} cores, workers ${result.cores.worker.toFixed(2)}, API ${result.cores.api.toFixed(2)}`);
  console.log(`provision (each at ${utilization * 100}% of a core on average): Temporal ${result.provision.temporalCores} cores, ${result.provision.workerProcesses} worker process(es), ${result.provision.apiProcesses} API process(es)`);
  console.log(`Temporal Cloud: ${result.actionsPerSecond.toFixed(0)} actions/s, ${(result.actionsPerMonth / 1e6).toFixed(1)} million actions a month; history written ${(result.historyBytesPerSecond / 1e6).toFixed(2)} MB/s`);
  if (result.postgresTransactionsPerSecond !== undefined) console.log(`PostgreSQL (Temporal's persistence and visibility): ${result.postgresTransactionsPerSecond.toFixed(0)} transactions/s`);
  console.log(`unit costs: ${relative(root, options.get('costs') ?? COSTS_FILE)} (fitted at ${costs.commit} from ${costs.steps} steps on ${costs.temporal}; docs/capacity.md says how far off it was)`);
}

const options = args();
try {
  if (options.has('fit')) fit(process.argv.slice(2).filter((arg) => !arg.startsWith('--')), options.get('out') ?? COSTS_FILE);
  else show(options);
} catch (err) {
  console.error(`capacity: ${(err as Error).message}`);
  process.exit(2);
}
