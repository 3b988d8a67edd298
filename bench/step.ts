/**
 * One measured step, the unit every mode is made of: a load from a separate process
 * (bench/load-client.ts) at a rate for a while, the wait for its events to arrive, and what it cost
 * (CPU per process, Temporal's actions and history, memory), with the settings all modes share.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { ChildProcess } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { noTemporalCost, perThousandEvents, temporalCost } from './temporal-cost';
import { cpuSeconds, rssMb, sleep, spawnEntry } from '../harness/processes';
import { HARNESS_TOKEN } from '../harness/token';
import { percentile, type LoadStack, type TemporalKind } from '../harness/stack';
import type { BenchOptions } from './options';
import type { Scenario } from './scenarios';

export const TEMPORAL_DESCRIPTION: Record<TemporalKind, string> = {
  dev: 'dev server: CLI 1.9.1 (server 1.32.0), SQLite on disk, WAL',
  cluster: 'cluster: server 1.32.0, frontend/history/matching/worker as 4 processes, 4 shards, PostgreSQL (Debian), mTLS',
};
/** Closed loop: clients each waiting for their answer. Open loop: the bound on requests in flight. */
export const CONCURRENCY = 200;
const MAX_IN_FLIGHT = 20_000;
/** How long a step's load runs, unless its scenario says otherwise. */
export const stepSecondsOf = (quick: boolean) => (quick ? 5 : 15);
/** A load is sustained only if producers had their 202 this soon (p99): accepted late is not keeping up. */
export const SUSTAINED_202_P99_MS = 1_000;
export const BACKOFF_SCALE = '0.001';

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

export type LoadMode = 'open' | 'closed';
/** The load generator of the step running now, if any. */
let loadProcess: ChildProcess | undefined;

/** Stops the load generator of the step running now (the benchmark was stopped by a signal). */
export function killLoad(): void {
  loadProcess?.kill('SIGKILL');
}

/** What a step measures: a stack of ours, or a peer's (bench/peers/), which has no Temporal client. */
export type MeasuredStack = Pick<LoadStack, 'apiUrl' | 'receiver' | 'backlog' | 'temporalServicePids' | 'postgresTransactions'> & { pids: Record<string, number[]>; client?: LoadStack['client']; loadEnv?: Record<string, string> };

async function offer(quick: boolean, stack: MeasuredStack, scenario: Scenario, partners: string[], rate: number, mode: LoadMode): Promise<LoadResult> {
  // In a file: 10,000 partner ids are more than one environment variable may hold (128 KiB).
  const partnersDir = mkdtempSync(join(tmpdir(), 'webhooks-bench-partners-'));
  const partnersFile = join(partnersDir, 'partners');
  writeFileSync(partnersFile, partners.join(','));
  const load = (loadProcess = spawnEntry('bench/load-client.ts', [], {
    env: {
      ...process.env,
      API_URL: stack.apiUrl,
      API_TOKEN: HARNESS_TOKEN,
      PARTNER_IDS_FILE: partnersFile,
      MODE: mode,
      RATE: String(rate),
      EVENTS_PER_REQUEST: String(scenario.eventsPerRequest ?? 1),
      CONCURRENCY: String(scenario.connections ?? CONCURRENCY),
      MAX_IN_FLIGHT: String(MAX_IN_FLIGHT),
      DURATION_S: String(scenario.stepSeconds ?? stepSecondsOf(quick)),
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

/** Runs one step; `afterLoad` runs once the load has ended, before the step waits for arrivals (a crash, say). */
export type RunStep = (stack: MeasuredStack, scenario: Scenario, partners: string[], rate: number, mode?: LoadMode, afterLoad?: () => Promise<void>) => Promise<StepResult>;
export type StepResult = Awaited<ReturnType<typeof measureStep>>;

/** The step runner of a run: `--quick` shortens the load and the wait for arrivals. */
export function stepRunner({ quick }: Pick<BenchOptions, 'quick'>): RunStep {
  return (stack, scenario, partners, rate, mode = 'open', afterLoad) => measureStep(quick, stack, scenario, partners, rate, mode, afterLoad);
}

async function measureStep(quick: boolean, stack: MeasuredStack, scenario: Scenario, partners: string[], rate: number, mode: LoadMode, afterLoad?: () => Promise<void>) {
  // What an earlier, overloaded step left undelivered still competes with this one: say how much.
  const backlogAtStart = stack.backlog();
  stack.receiver.reset();
  stack.receiver.failRatio = scenario.failRatio ?? 0;
  const stepStart = Date.now();
  const cpuBefore = Object.fromEntries(Object.entries(stack.pids).map(([name, pid]) => [name, cpuSeconds(pid)]));
  const servicesBefore = Object.fromEntries(Object.entries(stack.temporalServicePids ?? {}).map(([name, pid]) => [name, cpuSeconds(pid)]));
  const transactionsBefore = stack.postgresTransactions?.();
  const result = await offer(quick, stack, scenario, partners, rate, mode);
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
    /** Per second of the load: printed with the step; results files leave it out (bench/compact.ts). */
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

/** A step in a line of a results file: the load, what was accepted, how fast, whether sustained. */
export function summaryOf(step: StepResult) {
  return { offeredPerSecond: step.offeredPerSecond, acceptedPerSecond: step.acceptedPerSecond, latency202Ms: step.latency202Ms, refused503: step.errors['503'] ?? 0, undelivered: step.undelivered, sustained: step.sustained };
}

/** `fn` on each item in turn (stacks are measured one at a time: each takes the machine alone). */
export async function sequence<T, R>(items: readonly T[], fn: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = [];
  for (const item of items) results.push(await fn(item));
  return results;
}

/** Each step's failed and slow workflow tasks (bench/temporal-cost.ts): what its stalls were made of. */
export function printStalls(steps: [string, StepResult][]): void {
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

/** What a mode adds to its results file, after the header bench/run.ts writes (in this key order). */
export type ModeReport = Record<string, unknown>;
