/**
 * `npm run bench` (add `-- --quick` for a run under two minutes; `-- --temporal=cluster` for a
 * Temporal cluster as `npm run cluster` runs it instead of the dev server; `-- --encryption=compare`
 * or `-- --catalog=compare` for the cost of payload encryption or of checking events against an
 * event type's schema, A/B in one run): the real stack on this machine,
 * load from a separate process, four scenarios at a fixed offered load and (full run) stepped up
 * until the backlog grows, and the receiver's and Temporal's own ceilings measured in the same run.
 * Prints a table; writes JSON with the machine's description under bench/results/.
 */
import { randomBytes } from 'node:crypto';
import { execFileSync, execSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { cpus, homedir, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { receiverCeiling, temporalCeiling } from './ceilings';
import { threadProfiles } from './profile-summary';
import { noTemporalCost, perThousandEvents, temporalCost } from './temporal-cost';
import { cpuSeconds, createSubscription as createOne, freePort, root, rssMb, sleep, spawnEntry } from '../harness/processes';
import { createSubscription, createSubscriptions, liveStacks, percentile, startStack, TOKEN, type Stack, type TemporalKind } from './stack';

const quick = process.argv.includes('--quick');
/** `--profile`: the hot scenario only, at its fixed load, with the worker and the API under --cpu-prof. */
const profiling = process.argv.includes('--profile');
/** `--scenario=hot,shared`: only these scenarios. */
const only = process.argv.find((arg) => arg.startsWith('--scenario='))?.split('=')[1]?.split(',');
/** `--encryption=compare`, `--catalog=compare`: the hot and shared scenarios with and without the feature, alternating stacks. */
const comparison = process.argv.includes('--encryption=compare') ? 'encryption' : process.argv.includes('--catalog=compare') ? 'catalog' : undefined;
/** `--restarts`: many subscriptions, the worker killed with a backlog, at two history lengths. */
const restarts = process.argv.includes('--restarts');
/**
 * `--hand-overs[=N]`: N (20) consecutive 20 s open-loop runs of one hot subscription at `--rate=`
 * (600) events/s, each on a fresh store, each crossing at least one continue-as-new: every run's
 * 202 p99, 503s and failed workflow tasks. With `--against=<revision>`, that revision's runs
 * alternate with the working tree's.
 */
/** `--shedding`: the highest load a stack sustains for single events and for arrays, then twice it (sheddingRuns). */
const shedding = process.argv.includes('--shedding');
const handOvers = process.argv.find((arg) => arg === '--hand-overs' || arg.startsWith('--hand-overs='));
const handOverRuns = handOvers?.includes('=') ? Number(handOvers.split('=')[1]) : 20;
const handOverRate = Number(process.argv.find((arg) => arg.startsWith('--rate='))?.split('=')[1] ?? 600);
/** `--neighbours`: one healthy partner under load beside partners whose endpoints refuse connections, and after a restart of everything. */
const neighbours = process.argv.includes('--neighbours');
/** `--peer=svix`: the same load through Svix's server (bench/peers/svix.ts), each system alone on the machine in turn. */
const peer = process.argv.find((arg) => arg.startsWith('--peer='))?.split('=')[1];
if (peer !== undefined && peer !== 'svix') throw new Error(`--peer: only svix is known, not ${peer}`);
/** `--against=<revision>`: that revision's worker and API beside this tree's, A/B on alternating stacks. */
const against = process.argv.find((arg) => arg.startsWith('--against='))?.split('=')[1];
/**
 * `--compare-env=NAME=value[,NAME=value]`: the working tree with these settings (A) beside its
 * defaults (B), A/B on alternating stacks; with `--restarts`, that scenario once with each.
 */
const compareEnv = parseCompareEnv(process.argv.find((arg) => arg.startsWith('--compare-env='))?.slice('--compare-env='.length));
const temporal: TemporalKind = process.argv.includes('--temporal=cluster') ? 'cluster' : 'dev';
const TEMPORAL_DESCRIPTION = {
  dev: 'dev server: CLI 1.9.1 (server 1.32.0), SQLite on disk, WAL',
  cluster: 'cluster: server 1.32.0, frontend/history/matching/worker as 4 processes, 4 shards, PostgreSQL (Debian), mTLS',
}[temporal];
/** Closed loop: clients each waiting for their answer. Open loop: the bound on requests in flight. */
const CONCURRENCY = 200;
const MAX_IN_FLIGHT = 20_000;
const STEP_SECONDS = quick ? 5 : 15;
/** A load is sustained only if producers had their 202 this soon (p99): accepted late is not keeping up. */
const SUSTAINED_202_P99_MS = 1_000;
const BACKOFF_SCALE = '0.001';

interface Scenario {
  name: string;
  description: string;
  subscriptions: number;
  batching: { windowMs: number; maxEvents: number };
  rate: number;
  failRatio?: number;
  /** Events per request: 1 posts single event objects, more posts arrays. */
  eventsPerRequest?: number;
  /** false: the endpoints refuse every delivery, so the step does not wait for arrivals. */
  expectsDelivery?: false;
  /** How long the load runs; the mode's step length by default. */
  stepSeconds?: number;
  /** The load generator's connections; CONCURRENCY by default. */
  connections?: number;
}

const scenarios: Scenario[] = [
  { name: 'hot', description: 'one hot subscription, maxEvents 100, windowMs 1000, single-event requests', subscriptions: 1, batching: { windowMs: 1000, maxEvents: 100 }, rate: quick ? 1000 : 2000 },
  { name: 'hot-array', description: 'the hot subscription, producers posting arrays of 100 events', subscriptions: 1, batching: { windowMs: 1000, maxEvents: 100 }, rate: quick ? 2000 : 5000, eventsPerRequest: 100 },
  { name: 'shared', description: '100 subscriptions sharing the load, windowMs 5000', subscriptions: 100, batching: { windowMs: 5000, maxEvents: 100 }, rate: quick ? 300 : 600 },
  { name: 'sparse', description: 'many subscriptions, sparse traffic (2 events each per 5 s window)', subscriptions: quick ? 100 : 1000, batching: { windowMs: 5000, maxEvents: 100 }, rate: ((quick ? 100 : 1000) * 2) / 5 },
  { name: 'failing', description: 'one subscription whose receiver fails half of the attempts', subscriptions: 1, batching: { windowMs: 1000, maxEvents: 100 }, rate: quick ? 1000 : 2000, failRatio: 0.5 },
].filter((s) => (profiling ? s.name === 'hot' : !only || only.includes(s.name)));

interface LoadResult {
  durationMs: number;
  acceptedCount: number;
  sent: number;
  unsent: number;
  peakInFlight: number;
  statuses: Record<string, number>;
  retryAfter: Record<string, number>;
  latencyMs: { p50: number | null; p99: number | null; max: number | null };
  /** Missing in results of load clients older than 2026-12-07. */
  latency503Ms?: { p50: number | null; p99: number | null; max: number | null };
  loadCpuSeconds: number;
  timeline: { sent: number; accepted: number; maxMs: number }[];
  accepted: [string, number][];
}

type LoadMode = 'open' | 'closed';
/** The load generator of the step running now, if any. */
let loadProcess: ChildProcess | undefined;

/** What a step measures: a stack of ours, or a peer's (bench/peers/), which has no Temporal client. */
type MeasuredStack = Pick<Stack, 'apiUrl' | 'receiver' | 'backlog' | 'temporalServicePids' | 'postgresTransactions'> & { pids: Record<string, number[]>; client?: Stack['client']; loadEnv?: Record<string, string> };

async function offer(stack: MeasuredStack, scenario: Scenario, partners: string[], rate: number, mode: LoadMode): Promise<LoadResult> {
  // In a file: 10,000 partner ids are more than one environment variable may hold (128 KiB).
  const partnersDir = mkdtempSync(join(tmpdir(), 'webhooks-bench-partners-'));
  const partnersFile = join(partnersDir, 'partners');
  writeFileSync(partnersFile, partners.join(','));
  const load = (loadProcess = spawnEntry('bench/load-client.ts', [], {
    env: {
      ...process.env,
      API_URL: stack.apiUrl,
      API_TOKEN: TOKEN,
      PARTNER_IDS_FILE: partnersFile,
      MODE: mode,
      RATE: String(rate),
      EVENTS_PER_REQUEST: String(scenario.eventsPerRequest ?? 1),
      CONCURRENCY: String(scenario.connections ?? CONCURRENCY),
      MAX_IN_FLIGHT: String(MAX_IN_FLIGHT),
      DURATION_S: String(scenario.stepSeconds ?? STEP_SECONDS),
      ...stack.loadEnv,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  }));
  let output = '';
  load.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await new Promise((resolve) => load.once('exit', resolve));
  rmSync(partnersDir, { recursive: true, force: true });
  return JSON.parse(output) as LoadResult;
}

type StepResult = Awaited<ReturnType<typeof runStep>>;

/** `afterLoad` runs once the load has ended, before the step waits for arrivals (a crash, say). */
async function runStep(stack: MeasuredStack, scenario: Scenario, partners: string[], rate: number, mode: LoadMode = 'open', afterLoad?: () => Promise<void>) {
  // What an earlier, overloaded step left undelivered still competes with this one: say how much.
  const backlogAtStart = stack.backlog();
  stack.receiver.reset();
  stack.receiver.failRatio = scenario.failRatio ?? 0;
  const stepStart = Date.now();
  const cpuBefore = Object.fromEntries(Object.entries(stack.pids).map(([name, pid]) => [name, cpuSeconds(pid)]));
  const servicesBefore = Object.fromEntries(Object.entries(stack.temporalServicePids ?? {}).map(([name, pid]) => [name, cpuSeconds(pid)]));
  const transactionsBefore = stack.postgresTransactions?.();
  const result = await offer(stack, scenario, partners, rate, mode);
  await afterLoad?.();
  // Settle: everything accepted should arrive within a window plus retries; stop waiting after 30 s
  // (10 s with --quick, except behind a failing endpoint, whose gate may wait that long for its probe).
  const settleStart = Date.now();
  const settleMs = scenario.batching.windowMs + (quick && !scenario.failRatio ? 10_000 : 30_000);
  const missing = () => result.accepted.filter(([id]) => !stack.receiver.arrivals.has(id)).length;
  while (scenario.expectsDelivery !== false && missing() > 0 && Date.now() - settleStart < settleMs) await sleep(250);
  const stepEnd = Date.now();
  const cpu = Object.fromEntries(Object.entries(stack.pids).map(([name, pid]) => [name, +(cpuSeconds(pid) - cpuBefore[name]!).toFixed(1)]));
  const postgresTransactions = transactionsBefore === undefined ? undefined : stack.postgresTransactions!() - transactionsBefore;
  const temporalServicesCpu = Object.fromEntries(Object.entries(stack.temporalServicePids ?? {}).map(([name, pid]) => [name, +(cpuSeconds(pid) - servicesBefore[name]!).toFixed(2)]));
  const e2e = result.accepted.filter(([id]) => stack.receiver.arrivals.has(id)).map(([id, at]) => stack.receiver.arrivals.get(id)! - at).sort((a, b) => a - b);
  // (reduce, not Math.min(...): a step accepts more events than a call may take arguments)
  const firstAck = result.accepted.reduce((min, [, at]) => Math.min(min, at), Infinity);
  const lastArrival = [...stack.receiver.arrivals.values()].reduce((max, at) => Math.max(max, at), 0);
  const spanS = Math.max(0.001, (lastArrival - firstAck) / 1000);
  const delivered = stack.receiver.arrivals.size;
  const successfulRequests = stack.receiver.requests - stack.receiver.failed;
  const acceptedPerSecond = Math.round((result.acceptedCount / result.durationMs) * 1000);
  const undelivered = missing();
  stack.backlog = () => missing();
  const temporalCosts = stack.client ? await temporalCost(stack.client, stack.client.options.namespace, stepStart, stepEnd) : noTemporalCost();
  const perThousand = (seconds: number) => +((seconds / Math.max(1, result.acceptedCount)) * 1000).toFixed(3);
  const totalCpu = Object.values(cpu).reduce((sum, seconds) => sum + seconds, 0);
  return {
    mode,
    backlogAtStart,
    offeredPerSecond: rate,
    acceptedCount: result.acceptedCount,
    acceptedPerSecond,
    errors: Object.fromEntries(Object.entries(result.statuses).filter(([status]) => status !== '202')),
    retryAfter: result.retryAfter,
    unsent: result.unsent,
    peakInFlight: result.peakInFlight,
    timeline: result.timeline,
    latency202Ms: { p50: round(result.latencyMs.p50), p99: round(result.latencyMs.p99), max: round(result.latencyMs.max) },
    latency503Ms: { p50: round(result.latency503Ms?.p50 ?? null), p99: round(result.latency503Ms?.p99 ?? null), max: round(result.latency503Ms?.max ?? null) },
    endToEndMs: { p50: percentile(e2e, 50), p95: percentile(e2e, 95), p99: percentile(e2e, 99) },
    undelivered,
    deliveredEventsPerSecond: Math.round(delivered / spanS),
    batchesPerSecond: +(successfulRequests / spanS).toFixed(1),
    httpRequestsPerDeliveredEvent: +(stack.receiver.requests / Math.max(1, delivered)).toFixed(4),
    /** From the step's start to the end of its settling: the interval its CPU and Temporal counts cover. */
    stepSeconds: +((stepEnd - stepStart) / 1000).toFixed(1),
    cpuSeconds: cpu,
    /** On the cluster: the Temporal server's CPU seconds by service (frontend, history, matching, worker). */
    ...(stack.temporalServicePids ? { temporalCpuSecondsByService: temporalServicesCpu } : {}),
    /** On the cluster: PostgreSQL transactions in Temporal's databases over the step, per 1,000 accepted events. */
    ...(postgresTransactions === undefined ? {} : { postgresTransactionsPerThousandEvents: perThousand(postgresTransactions) }),
    /** CPU seconds per 1,000 accepted events: each process, and the sum of ours and Temporal's (the load generator's apart). */
    cpuPerThousandEvents: { ...Object.fromEntries(Object.entries(cpu).map(([name, seconds]) => [name, perThousand(seconds)])), total: perThousand(totalCpu), load: perThousand(result.loadCpuSeconds) },
    temporal: temporalCosts,
    temporalPerThousandEvents: perThousandEvents(temporalCosts, result.acceptedCount),
    peakRssMb: Object.fromEntries(Object.entries(stack.pids).map(([name, pid]) => [name, rssMb(pid, 'peak')])),
    sustained: acceptedPerSecond >= 0.95 * rate && (result.latencyMs.p99 ?? Infinity) <= SUSTAINED_202_P99_MS && undelivered === 0,
  };
}

const round = (value: number | null) => (value === null ? null : Math.round(value * 10) / 10);

/** One side of an A/B comparison: which code, and how its stacks are started and prepared. */
interface Variant {
  name: string;
  env: Record<string, string>;
  /** A checkout of another revision whose worker and API run instead of this tree's. */
  root?: string;
  /** Runs on each fresh stack before the subscriptions are created. */
  prepare?: (stack: Stack) => Promise<void>;
}

/**
 * The loads of an A/B comparison: one that both sides take, and one beyond what either takes.
 * `--loads=shared:60/180,sparse:15/45` sets others: spread load fills this machine's two cores at
 * the defaults (every step still settling when it ends), and CPU per event is only a ratio of
 * efficiency below that.
 */
const comparisonLoads: Record<string, { moderate: number; overload: number }> = {
  hot: { moderate: 600, overload: 3000 },
  'hot-array': { moderate: 1000, overload: 6000 },
  shared: { moderate: 200, overload: 600 },
  sparse: { moderate: 200, overload: 600 },
  ...parseLoads(process.argv.find((arg) => arg.startsWith('--loads='))?.slice('--loads='.length)),
};

function parseLoads(arg: string | undefined): Record<string, { moderate: number; overload: number }> {
  if (arg === undefined) return {};
  return Object.fromEntries(
    arg.split(',').map((entry) => {
      const match = /^([a-z-]+):(\d+)\/(\d+)$/.exec(entry);
      if (!match) throw new Error(`--loads: scenario:moderate/overload, not ${entry}`);
      return [match[1]!, { moderate: Number(match[2]), overload: Number(match[3]) }];
    }),
  );
}

/**
 * A/B in one run: each scenario on fresh stacks for A, B, B, A (so drift over the run falls on
 * both sides equally). On each stack an unmeasured warm-up step, then a moderate load and one
 * beyond what the stack takes, open loop. Prints each step and, per scenario and load, B ÷ A of
 * CPU per 1,000 events, Temporal actions per 1,000 events and accepted/s.
 */
async function compareVariants(label: string, [a, b]: [Variant, Variant], report: Record<string, unknown>): Promise<void> {
  const rows: (StepResult & { scenario: string; run: number; variant: string; load: string })[] = [];
  for (const scenario of scenarios.filter((s) => s.name in comparisonLoads)) {
    for (const [run, variant] of [a, b, b, a].entries()) {
      const stack = await startStack({ DELIVERY_BACKOFF_SCALE: BACKOFF_SCALE, ...variant.env }, { temporal, root: variant.root });
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
        await runStep(stack, scenario, partners, comparisonLoads[scenario.name]!.moderate);
        for (const [load, rate] of Object.entries(comparisonLoads[scenario.name]!)) {
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
  report[label] = { variants: [a.name, b.name], rows };
  console.log(`\nTemporal: ${TEMPORAL_DESCRIPTION}`);
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
  (report[label] as Record<string, unknown>).ratios = ratios;
}

/**
 * `--against=<revision>`: that revision's worker and API beside this working tree's. Its files come
 * from `git archive` into a cache folder outside the tree; its dependencies are this tree's when
 * its package-lock.json is the same, otherwise installed there with `npm ci`.
 */
function revisionVariants(revision: string): [Variant, Variant] {
  const commit = execFileSync('git', ['rev-parse', '--short', `${revision}^{commit}`], { cwd: root, encoding: 'utf8' }).trim();
  const dir = join(homedir(), '.cache/webhooks/bench-revisions', commit);
  if (!existsSync(join(dir, 'package.json'))) {
    mkdirSync(dir, { recursive: true });
    execSync(`git archive ${commit} | tar -x -C ${JSON.stringify(dir)}`, { cwd: root, stdio: 'inherit' });
  }
  if (!existsSync(join(dir, 'node_modules'))) {
    const sameLock = readFileSync(join(dir, 'package-lock.json'), 'utf8') === readFileSync(join(root, 'package-lock.json'), 'utf8');
    if (sameLock) symlinkSync(join(root, 'node_modules'), join(dir, 'node_modules'));
    else execFileSync('npm', ['ci', '--no-audit', '--no-fund', '--ignore-scripts'], { cwd: dir, stdio: 'inherit' });
  }
  return [
    { name: commit, env: {}, root: dir },
    { name: 'working tree', env: {} },
  ];
}

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

async function handOverRunsOf(variants: Variant[]): Promise<HandOverRow[]> {
  const scenario: Scenario = { name: 'hand-over', description: 'one hot subscription across its continue-as-new', subscriptions: 1, batching: { windowMs: 1000, maxEvents: 100 }, rate: handOverRate, stepSeconds: 20 };
  const rows: HandOverRow[] = [];
  for (let run = 0; run < handOverRuns; run++) {
    for (const variant of variants) {
      const stack = await startStack({ DELIVERY_BACKOFF_SCALE: BACKOFF_SCALE, ...variant.env }, { temporal, root: variant.root });
      try {
        const partnerId = `bench-hand-over-${run}`;
        await createSubscription(stack, partnerId, scenario.batching);
        const step = await runStep(stack, scenario, [partnerId], handOverRate);
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
  console.log(`\nTemporal: ${TEMPORAL_DESCRIPTION}; one subscription, ${handOverRate} events/s open loop, 20 s a run, a fresh store each`);
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
  return rows;
}

/**
 * `--shedding`: for one subscription taking single events (`hot`) and arrays of 100 (`hot-array`),
 * the highest load a fresh stack sustains (stepping up ×1.25 from SHEDDING_START until a step is
 * not), then twice that on another fresh stack, open loop, over SHEDDING_CONNECTIONS connections so
 * that the producers' own pool is not what limits them. The target (issue #26): at twice the
 * sustained load the accepted requests keep a 202 p99 of 1 s at most, the others get 503 with
 * Retry-After within 50 ms, and every accepted event arrives.
 */
const SHEDDING_START: Record<string, number> = { hot: 600, 'hot-array': 1000 };
const SHEDDING_CONNECTIONS = 1000;

async function sheddingRuns(): Promise<Record<string, unknown>[]> {
  const rows: Record<string, unknown>[] = [];
  for (const scenario of scenarios.filter((s) => s.name in SHEDDING_START)) {
    const start = SHEDDING_START[scenario.name]!;
    const partners = [`bench-shedding-${scenario.name}`];
    const onFreshStack = async <T>(run: (stack: Stack) => Promise<T>): Promise<T> => {
      const stack = await startStack({ DELIVERY_BACKOFF_SCALE: BACKOFF_SCALE }, { temporal });
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
  console.log(`\nTemporal: ${TEMPORAL_DESCRIPTION}; one subscription, open loop; twice the highest sustained load over ${SHEDDING_CONNECTIONS} connections, a fresh stack`);
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
  return rows;
}

/** A step in a line of a results file: the load, what was accepted, how fast, whether sustained. */
function summaryOf(step: StepResult) {
  return { offeredPerSecond: step.offeredPerSecond, acceptedPerSecond: step.acceptedPerSecond, latency202Ms: step.latency202Ms, refused503: step.errors['503'] ?? 0, undelivered: step.undelivered, sustained: step.sustained };
}

function parseCompareEnv(arg: string | undefined): Record<string, string> | undefined {
  if (arg === undefined) return undefined;
  const pairs: string[][] = arg.split(',').map((pair) => pair.split('='));
  if (!arg || pairs.some((pair) => pair.length !== 2 || !/^[A-Z][A-Z0-9_]*$/.test(pair[0]!))) {
    throw new Error(`--compare-env takes NAME=value pairs separated by commas, not ${JSON.stringify(arg)}`);
  }
  return Object.fromEntries(pairs.map(([name, value]) => [name!, value!]));
}

function envVariants(env: Record<string, string>): [Variant, Variant] {
  return [
    { name: Object.entries(env).map(([name, value]) => `${name}=${value}`).join(','), env },
    { name: 'defaults', env: {} },
  ];
}

/** `fn` on each item in turn (stacks are measured one at a time: each takes the machine alone). */
async function sequence<T, R>(items: readonly T[], fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (const item of items) results.push(await fn(item));
  return results;
}

/**
 * `--restarts`: 20 busy subscriptions (10 with --quick) whose histories grow in two phases; after
 * each, a burst of events, SIGKILL to the worker as soon as the burst has been accepted, and a new
 * worker, which must replay every subscription's history before it can continue. Reports the
 * history lengths and the time from the kill to the first delivery and to the last event of the
 * burst delivered: how a restart's cost grows with history length (this machine cannot build a
 * thousand long histories in a benchmark's time; the growth per history event carries over).
 */
interface RestartRow {
  phase: number;
  subscriptions: number;
  historyLength: { p50: number | null; max: number | null };
  burstAccepted: number;
  undelivered: number;
  firstDeliveryAfterKillMs: number | null;
  allDeliveredAfterKillMs: number | null;
  workflowTaskFailures: number;
  slowWorkflowTasks: number;
  worstWorkflowTaskMs: number;
  /** The slow and failed workflow tasks by outcome and cause: how many, and the longest wait for a worker. */
  slowTaskKinds: Record<string, { count: number; maxQueuedMs: number; maxRanMs: number }>;
}

async function workerRestarts(variant: Variant = { name: 'defaults', env: {} }): Promise<RestartRow[]> {
  const count = quick ? 10 : 20;
  const batching = { windowMs: 5000, maxEvents: 100 };
  const spread: Scenario = { name: 'restarts', description: '25 events/s to each subscription', subscriptions: count, batching, rate: count * 25 };
  const stack = await startStack({ DELIVERY_BACKOFF_SCALE: BACKOFF_SCALE, ...variant.env });
  const results: RestartRow[] = [];
  try {
    const partners = Array.from({ length: count }, (_, i) => `restart-${i}`);
    await createSubscriptions(stack, partners, batching);
    for (const phase of [1, 2]) {
      let grow = await runStep(stack, { ...spread, name: `grow ${phase}` }, partners, spread.rate);
      if (!quick) grow = await runStep(stack, { ...spread, name: `grow ${phase}` }, partners, spread.rate);
      console.error('restarts grow', phase, JSON.stringify({ ...grow, timeline: undefined, temporal: undefined }));
      // History lengths of a sample of the subscriptions' current runs.
      const lengths: number[] = [];
      for await (const execution of stack.client.workflow.list({ query: "WorkflowType = 'subscriptionWorkflow' AND ExecutionStatus = 'Running'", pageSize: 50 })) {
        lengths.push((await stack.client.workflow.getHandle(execution.workflowId).describe()).historyLength);
        if (lengths.length >= count) break;
      }
      lengths.sort((a, b) => a - b);
      let killedAt = 0;
      const burst = await runStep(stack, { ...spread, name: `burst ${phase}` }, partners, spread.rate, 'open', async () => {
        killedAt = Date.now();
        await stack.restart('worker');
      });
      const arrivals = [...stack.receiver.arrivals.values()].filter((at) => at >= killedAt);
      const firstDeliveryMs = arrivals.length ? arrivals.reduce((min, at) => Math.min(min, at), Infinity) - killedAt : null;
      const lastDeliveryMs = burst.undelivered === 0 && arrivals.length ? arrivals.reduce((max, at) => Math.max(max, at), 0) - killedAt : null;
      const row: RestartRow = {
        phase,
        subscriptions: count,
        historyLength: { p50: percentile(lengths, 50), max: lengths[lengths.length - 1] ?? null },
        burstAccepted: burst.acceptedCount,
        undelivered: burst.undelivered,
        firstDeliveryAfterKillMs: firstDeliveryMs,
        allDeliveredAfterKillMs: lastDeliveryMs,
        workflowTaskFailures: burst.temporal.workflowTaskFailures,
        slowWorkflowTasks: burst.temporal.slowWorkflowTasks.length,
        worstWorkflowTaskMs: burst.temporal.slowWorkflowTasks.reduce((max, task) => Math.max(max, task.queuedMs + task.ranMs), 0),
        slowTaskKinds: {},
      };
      for (const task of burst.temporal.slowWorkflowTasks) {
        const kind = (row.slowTaskKinds[[task.outcome, task.cause].filter(Boolean).join(' ')] ??= { count: 0, maxQueuedMs: 0, maxRanMs: 0 });
        kind.count++;
        kind.maxQueuedMs = Math.max(kind.maxQueuedMs, task.queuedMs);
        kind.maxRanMs = Math.max(kind.maxRanMs, task.ranMs);
      }
      console.error('restarts burst', JSON.stringify(row));
      results.push(row);
    }
  } finally {
    await stack.stop();
  }
  console.log(`\nworker restarts (${variant.name}): ${count} subscriptions at 25 events/s each; SIGKILL to the worker right after a burst of events was accepted, then a new worker`);
  for (const row of results) {
    console.log(
      `  phase ${row.phase}: history length p50/max ${row.historyLength.p50}/${row.historyLength.max} events; burst ${row.burstAccepted} events; first delivery ${row.firstDeliveryAfterKillMs} ms and all delivered ${row.allDeliveredAfterKillMs ?? 'not within the settle time'} ms after the kill; ${row.slowWorkflowTasks} slow workflow tasks (worst ${row.worstWorkflowTaskMs} ms), ${row.workflowTaskFailures} failed; by kind ${JSON.stringify(row.slowTaskKinds)}`,
    );
  }
  return results;
}

/**
 * `--peer=svix`: the same work through this product and through Svix's server, one system on the
 * machine at a time, with the same receiver and the same open-loop load generator: one endpoint,
 * 100 endpoints, one endpoint failing half of its attempts, and many endpoints with sparse traffic
 * (1,000 with windowMs 5,000 at 2 events per endpoint per minute; 10,000 with windowMs 60,000 at
 * one). Each system on a fresh stack per case (ours first in one case, Svix first in the next, so
 * drift over the run falls on both), an unmeasured warm-up step where the case has one, then the
 * case's loads. Ours at windowMs 1,000 and maxEvents 100 unless the case says otherwise; Svix at
 * its own settings, as SVIX_SETTINGS in bench/peers/svix.ts says. `--scenario=` picks cases by key.
 */
interface PeerCase {
  key: string;
  scenario: Scenario;
  loads: number[];
  warmUp?: false;
}
const peerCases = ([
  { key: 'one', scenario: { name: 'one endpoint', description: 'single-event requests to one endpoint', subscriptions: 1, batching: { windowMs: 1000, maxEvents: 100 }, rate: 0 }, loads: quick ? [300] : [300, 600, 1000, 2000] },
  { key: 'spread', scenario: { name: '100 endpoints', description: 'single-event requests spread over 100 endpoints', subscriptions: 100, batching: { windowMs: 1000, maxEvents: 100 }, rate: 0 }, loads: quick ? [300] : [300, 600, 1000] },
  { key: 'failing', scenario: { name: 'failing half', description: 'one endpoint failing half of its attempts (HTTP 500)', subscriptions: 1, batching: { windowMs: 1000, maxEvents: 100 }, rate: 0, failRatio: 0.5 }, loads: [300] },
  // Sparse: the step covers whole windows, and the subscriptions' creation is the warm-up.
  { key: 'sparse-1k', scenario: { name: '1,000 sparse', description: '1,000 endpoints, 2 events each a minute, windowMs 5,000', subscriptions: 1000, batching: { windowMs: 5000, maxEvents: 100 }, rate: 0, stepSeconds: 60 }, loads: [Math.round((1000 * 2) / 60)], warmUp: false },
  { key: 'sparse-10k', scenario: { name: '10,000 sparse', description: '10,000 endpoints, 1 event each a minute, windowMs 60,000', subscriptions: 10_000, batching: { windowMs: 60_000, maxEvents: 100 }, rate: 0, stepSeconds: 120 }, loads: [Math.round(10_000 / 60)], warmUp: false },
] satisfies PeerCase[] as PeerCase[]).filter(({ key }) => !only || only.includes(key));

async function peerComparison(): Promise<Record<string, unknown>> {
  const { buildSvix, startSvixStack, SVIX_COMMIT, SVIX_SETTINGS } = await import('./peers/svix');
  const binary = buildSvix();
  const rows: (StepResult & { case: string; system: string })[] = [];
  let ceilings: Record<string, unknown> | undefined;
  for (const [index, { scenario, loads, warmUp }] of peerCases.entries()) {
    const systems = index % 2 === 0 ? (['webhooks', 'svix'] as const) : (['svix', 'webhooks'] as const);
    for (const system of systems) {
      // Each side's stack, and how it makes the case's endpoints: Svix applications, or our subscriptions.
      const [stack, createEndpoints] =
        system === 'svix'
          ? await startSvixStack(binary).then((svix) => [svix, () => svix.createApps(scenario.subscriptions)] as const)
          : await startStack({ DELIVERY_BACKOFF_SCALE: BACKOFF_SCALE }, { temporal }).then(
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
  console.log(`\nthis product (Temporal: ${TEMPORAL_DESCRIPTION}) beside svix-server ${SVIX_COMMIT.slice(0, 9)}, one at a time, open loop`);
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
  return { svixCommit: SVIX_COMMIT, svixSettings: SVIX_SETTINGS, ceilings, cases: peerCases.map(({ scenario, loads }) => ({ ...scenario, loads })), rows };
}

/**
 * `--neighbours`: 50 partners whose endpoints refuse connections, each with a backlog of failing
 * batches retrying (waits scaled by DELIVERY_BACKOFF_SCALE), beside one healthy partner under
 * open-loop load; then the worker, the API and the dev server are killed (SIGKILL) and started
 * again, and the healthy partner is loaded again. Target: its end-to-end p99 within windowMs + 2 s
 * during the load and after the restart.
 */
async function noisyNeighbours(): Promise<Record<string, unknown>> {
  const dead = quick ? 10 : 50;
  const batching = { windowMs: 1000, maxEvents: 100 };
  const healthy: Scenario = { name: 'healthy', description: 'the healthy partner', subscriptions: 1, batching, rate: quick ? 300 : 500 };
  const stack = await startStack({ DELIVERY_BACKOFF_SCALE: BACKOFF_SCALE });
  try {
    const refusing = `http://127.0.0.1:${await freePort()}/hook`;
    const deadPartners = Array.from({ length: dead }, (_, i) => `refused-${i}`);
    for (const partnerId of deadPartners) {
      await createOne(stack.apiUrl, TOKEN, partnerId, { url: refusing, eventTypes: ['page.viewed'], batching });
    }
    await createSubscription(stack, 'healthy', batching);
    // The backlog: about 20 failing batches per refusing partner, then retrying as the load runs.
    const backlog: Scenario = { name: 'backlog', description: 'events for the refusing partners', subscriptions: dead, batching, rate: dead * 5, expectsDelivery: false };
    const backlogStep = await runStep(stack, backlog, deadPartners, backlog.rate);
    console.error('neighbours backlog', JSON.stringify({ ...backlogStep, timeline: undefined, temporal: undefined }));
    const pendingBatches = async () => (await stack.client.workflow.count("WorkflowType = 'deliveryWorkflow' AND ExecutionStatus = 'Running'")).count;
    await runStep(stack, { ...healthy, name: 'healthy warm-up' }, ['healthy'], Math.round(healthy.rate / 2));
    const before = { pendingBatches: await pendingBatches() };
    const during = await runStep(stack, healthy, ['healthy'], healthy.rate);
    console.error('neighbours during', JSON.stringify({ ...during, timeline: undefined }));
    const restartStarted = Date.now();
    await stack.restart('all');
    const restartMs = Date.now() - restartStarted;
    const after = await runStep(stack, healthy, ['healthy'], healthy.rate);
    console.error('neighbours after restart', JSON.stringify({ ...after, timeline: undefined }));
    const targetMs = batching.windowMs + 2000;
    const result = { refusingPartners: dead, backlogAccepted: backlogStep.acceptedCount, before, during, restartMs, after, p99TargetMs: targetMs, pendingBatchesAfter: await pendingBatches() };
    console.log(`\nnoisy neighbours: ${dead} partners refusing connections (${backlogStep.acceptedCount} events of backlog, ${before.pendingBatches} batches retrying), one healthy partner at ${healthy.rate} events/s`);
    for (const [label, step] of [['during', during], ['after a restart of everything', after]] as const) {
      console.log(
        `  ${label}: accepted ${step.acceptedPerSecond}/s, 202 p50/p99 ${step.latency202Ms.p50}/${step.latency202Ms.p99} ms, end-to-end p50/p99 ${step.endToEndMs.p50}/${step.endToEndMs.p99} ms (target ${targetMs}: ${step.endToEndMs.p99 !== null && step.endToEndMs.p99 <= targetMs ? 'met' : 'missed'}), undelivered ${step.undelivered}, workflow tasks failed ${step.temporal.workflowTaskFailures}`,
      );
    }
    console.log(`  the restart (SIGKILL to worker, API and dev server, then the API healthy again): ${restartMs} ms`);
    printStalls([
      ['during', during],
      ['after restart', after],
    ]);
    return result;
  } finally {
    await stack.stop();
  }
}

/** `--encryption=compare`: payload encryption off and on. PAYLOAD_KEYS empty: off whatever the caller's environment says. */
function encryptionVariants(): [Variant, Variant] {
  const key = `bench:${randomBytes(32).toString('base64')}`;
  return [
    { name: 'off', env: { PAYLOAD_KEYS: '' } },
    { name: 'on', env: { PAYLOAD_KEYS: key } },
  ];
}

/**
 * `--catalog=compare`: the load's event type without a catalog entry, and with one whose JSON
 * Schema every event is checked against (the shape the load client sends, no other property).
 */
function catalogVariants(): [Variant, Variant] {
  const schema = {
    type: 'object',
    properties: { client: { type: 'integer', minimum: 0 }, seq: { type: 'integer', minimum: 0 }, sentAt: { type: 'integer' } },
    required: ['client', 'seq', 'sentAt'],
    additionalProperties: false,
  };
  const addType = async (stack: Stack) => {
    const response = await fetch(`${stack.apiUrl}/v1/event-types`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'page.viewed', description: 'A page was viewed (benchmark load)', schema, example: { client: 0, seq: 0, sentAt: 0 } }),
    });
    if (response.status !== 201) throw new Error(`creating the event type answered ${response.status}: ${await response.text()}`);
  };
  return [
    { name: 'none', env: {} },
    { name: 'schema', env: {}, prepare: addType },
  ];
}

let stoppingOnSignal = false;
// Stopped by a signal: stop the stacks first (their processes are this command's children), then exit.
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    stoppingOnSignal = true;
    console.error(`bench: ${signal}: stopping ${liveStacks.size} stack(s)`);
    loadProcess?.kill('SIGKILL');
    void Promise.allSettled([...liveStacks].map((stack) => stack.stop())).then(() => process.exit(130));
  });
}

async function main(): Promise<void> {
  const report: Record<string, unknown> = {
    date: new Date().toISOString(),
    mode: quick ? 'quick' : 'full',
    machine: { cores: cpus().length, cpu: cpus()[0]?.model, memoryGb: Math.round(totalmem() / 2 ** 30), node: process.version, temporal: TEMPORAL_DESCRIPTION },
    settings: { concurrency: CONCURRENCY, stepSeconds: STEP_SECONDS, deliveryBackoffScale: BACKOFF_SCALE, ingestSignalIntervalMs: process.env.INGEST_SIGNAL_INTERVAL_MS ?? 'the default of the code run' },
    sustainedWhen: `accepted ≥ 95% of offered, 202 p99 ≤ ${SUSTAINED_202_P99_MS} ms, all delivered`,
  };
  const results: Record<string, unknown> = {};
  const peakRss: Record<string, Record<string, number>> = {};
  if (comparison) await compareVariants(comparison, comparison === 'encryption' ? encryptionVariants() : catalogVariants(), report);
  if (handOvers) report.handOvers = await handOverRunsOf(against ? revisionVariants(against) : [{ name: 'working tree', env: {} }]);
  else if (against) await compareVariants('revision', revisionVariants(against), report);
  if (peer) report.peer = await peerComparison();
  if (shedding) report.shedding = await sheddingRuns();
  if (neighbours) report.neighbours = await noisyNeighbours();
  if (compareEnv && !restarts) await compareVariants('env', envVariants(compareEnv), report);
  if (restarts) {
    report.restarts = compareEnv
      ? Object.fromEntries(await sequence(envVariants(compareEnv), async (variant) => [variant.name, await workerRestarts(variant)] as const))
      : await workerRestarts();
  }
  for (const [index, scenario] of comparison || against || compareEnv || peer || shedding || neighbours || restarts || handOvers ? [] : scenarios.entries()) {
    // A fresh stack per scenario: an overloaded scenario's backlog must not slow the next one.
    const profileDir = profiling ? mkdtempSync(join(tmpdir(), 'webhooks-profile-')) : undefined;
    const stack = await startStack({ DELIVERY_BACKOFF_SCALE: BACKOFF_SCALE }, { profileDir, temporal });
    try {
      if (profiling) {
        const partners = ['bench-profile-0'];
        await createSubscription(stack, partners[0]!, scenario.batching);
        const step = await runStep(stack, scenario, partners, scenario.rate);
        console.error('profiled step', JSON.stringify(step));
        await stack.stop();
        report.profiledStep = step;
        report.profiles = Object.fromEntries(['worker', 'api'].map((name) => [name, threadProfiles(join(profileDir!, name))]));
        printProfiles(report.profiles as Record<string, ReturnType<typeof threadProfiles>>, step.cpuSeconds);
        continue;
      }
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
      let halfLoad: (StepResult & { p99TargetMs: number; p99WithinTarget: boolean }) | undefined;
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
  if (!profiling && !comparison && !against && !compareEnv && !peer && !shedding && !neighbours && !restarts && !handOvers) {
    printTable(report);
    printStalls(
      Object.entries(report.scenarios as Record<string, { fixed: StepResult; steps: StepResult[]; halfLoad?: StepResult; closed?: StepResult }>).flatMap(([name, value]) =>
        [value.fixed, ...value.steps, ...(value.halfLoad ? [value.halfLoad] : []), ...(value.closed ? [value.closed] : [])].map((step, i): [string, StepResult] => [`${name} ${i === 0 ? 'fixed' : step === value.halfLoad ? 'half' : step === value.closed ? 'closed' : `step ${i}`}`, step]),
      ),
    );
  }
  mkdirSync(join(root, 'bench/results'), { recursive: true });
  const kind = `${profiling ? 'profile' : handOvers ? `hand-overs${against ? `-against-${against}` : ''}` : (comparison ?? (against ? `against-${against}` : peer ? `peer-${peer}` : shedding ? 'shedding' : neighbours ? 'neighbours' : restarts ? 'restarts' : compareEnv ? 'env' : quick ? 'quick' : 'full'))}${temporal === 'cluster' ? '-cluster' : ''}`;
  const file = join(root, `bench/results/${kind}-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, JSON.stringify(report, null, 2) + '\n');
  console.log(`\nwritten: ${file}`);
  process.exit(0);
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

/** Each step's failed and slow workflow tasks (bench/temporal-cost.ts): what its stalls were made of. */
function printStalls(steps: [string, StepResult][]): void {
  const stalled = steps.filter(([, step]) => step.temporal.slowWorkflowTasks.length > 0);
  if (stalled.length === 0) return void console.log('\nno workflow task failed or took 500 ms or more in any step');
  console.log('\nworkflow tasks that failed or took 500 ms or more (scheduled to closed), first 6 of each step:');
  for (const [label, step] of stalled) {
    console.log(`  ${label}: ${step.temporal.slowWorkflowTasks.length} (${step.temporal.workflowTaskFailures} failed); 202 p99 ${step.latency202Ms.p99} ms`);
    for (const task of step.temporal.slowWorkflowTasks.slice(0, 6)) {
      console.log(`    ${task.at.slice(11, 23)} ${task.workflowId.slice(0, 40).padEnd(40)} queued ${task.queuedMs} ms, ran ${task.ranMs} ms, ${task.outcome}${task.cause ? ` (${task.cause})` : ''} at history event ${task.historyEvents}`);
    }
  }
}

function printTable(report: Record<string, unknown>): void {
  const ceilings = report.ceilings as { receiver: { requestsPerSecond: number }; temporal: { workflowsPerSecond: number } };
  console.log(`\nceilings: receiver ${ceilings.receiver.requestsPerSecond} batch POSTs/s; Temporal ${ceilings.temporal.workflowsPerSecond} bare workflows/s (one no-op activity each)`);
  console.log(`Temporal: ${TEMPORAL_DESCRIPTION}`);
  console.log(
    `scenario  step      offered/s accepted/s  202 p50/p99 ms   e2e p50/p95/p99 ms  batches/s (of ceiling) cpu s per 1,000 events: all (temporal${temporal === 'cluster' ? '+pg' : ''}/worker/api) actions/1,000 history B/event wft failed ok`,
  );
  for (const [name, value] of Object.entries(report.scenarios as Record<string, { fixed: StepResult; steps: StepResult[]; halfLoad?: StepResult; closed?: StepResult }>)) {
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

main().catch((err: unknown) => {
  // Stopped by a signal, the step in progress fails: the signal's handler exits once the stacks are down.
  if (stoppingOnSignal) return;
  console.error(err);
  // A failed benchmark stops its stacks too: their processes are this command's children.
  void Promise.allSettled([...liveStacks].map((stack) => stack.stop())).then(() => process.exit(1));
});
