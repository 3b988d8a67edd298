/**
 * The real stack for benchmarks: Temporal (the dev server from the installed binary, SQLite on
 * disk, WAL; or with `temporal: 'cluster'` a cluster as `npm run cluster` runs it: PostgreSQL and
 * four services behind an mTLS frontend), the worker and the API as their own processes, and a
 * fast local receiver in this process.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, openSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, type ConnectionOptions } from '@temporalio/client';
import { createSubscription as createOne, freePort, root as projectRoot, sleep, spawnEntry, waitForHealthy } from './processes';
import { temporalServices } from '../scripts/dev/temporal-cluster';
import { startDevServerProcess } from '../scripts/dev/temporal-dev-server';
import { HARNESS_TOKEN } from './token';
import { startTestCluster } from './cluster';
import { connectWhenUp } from './connect';
import { LoadReceiver } from './receiver';

export type TemporalKind = 'dev' | 'cluster';

export const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? null;

export interface Stack {
  address: string;
  apiUrl: string;
  client: Client;
  receiver: LoadReceiver;
  /** What our processes need to reach Temporal (address, and on the cluster its client certificate). */
  clientEnv: Record<string, string>;
  /** The processes measured; on the cluster, `temporal` is its four services and `postgres` its database. */
  pids: Record<'temporal' | 'worker' | 'api', number[]> & { postgres?: number[] };
  /** On the cluster, each Temporal service's process apart (their sum is `pids.temporal`). */
  temporalServicePids?: Record<string, number>;
  /** On the cluster, PostgreSQL's transactions in Temporal's databases so far (pg_stat_database). */
  postgresTransactions?: () => number;
  /** Events accepted by the last step and not yet delivered (set by the step runner). */
  backlog: () => number;
  /**
   * A crash and a start again: SIGKILL to the worker (`worker`), or to the worker, the API and the
   * dev server (`all`; its SQLite file stays), then the same processes started on the same ports.
   * Resolves once the API answers /healthz again. The dev server only.
   */
  restart(which: 'worker' | 'all'): Promise<void>;
  stop(): Promise<void>;
}

/**
 * With `profileDir`, the worker and the API run under `--cpu-prof` and write their profiles under it
 * (worker/, api/) on exit. With `root`, the worker and the API are those of another checkout (an
 * older revision, for an A/B run).
 */
export async function startStack(
  env: Record<string, string> = {},
  { profileDir, temporal = 'dev', root }: { profileDir?: string; temporal?: TemporalKind; root?: string } = {},
): Promise<Stack> {
  const dir = mkdtempSync(join(tmpdir(), 'webhooks-bench-'));
  const apiPort = await freePort();
  const children: ChildProcess[] = [];
  let connectionOptions: ConnectionOptions;
  let clientEnv: Record<string, string>;
  let temporalPids: Pick<Stack['pids'], 'temporal' | 'postgres'>;
  let temporalServicePids: Record<string, number> | undefined;
  let postgresTransactions: (() => number) | undefined;
  let stopTemporal = async () => {};
  let startDevServer: (() => ChildProcess) | undefined;
  if (temporal === 'cluster') {
    const test = await startTestCluster();
    connectionOptions = test.cluster.connectionOptions();
    clientEnv = test.cluster.clientEnv();
    const pidOf = (name: string) => test.cluster.processes.get(name as never)!.pid!;
    temporalPids = { temporal: temporalServices.map(pidOf), postgres: [pidOf('postgres')] };
    temporalServicePids = Object.fromEntries(temporalServices.map((service) => [service, pidOf(service)]));
    postgresTransactions = () => test.cluster.transactionCount();
    stopTemporal = () => test.teardown();
  } else {
    const temporalPort = await freePort();
    startDevServer = () => {
      const server = startDevServerProcess({ ip: '127.0.0.1', port: temporalPort, dbFile: join(dir, 'temporal.sqlite'), headless: true }, { stdio: 'ignore' });
      children.push(server);
      return server;
    };
    const server = startDevServer();
    connectionOptions = { address: `127.0.0.1:${temporalPort}` };
    clientEnv = { TEMPORAL_ADDRESS: connectionOptions.address! };
    temporalPids = { temporal: [server.pid!] };
  }
  // Until the stack is whole, a failure (or the benchmark's signal handler) stops what has started:
  // no process outlives the command.
  const starting = {
    async stop() {
      liveStacks.delete(starting);
      for (const child of children) child.kill('SIGKILL');
      await stopTemporal().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  liveStacks.add(starting);
  try {
    const address = connectionOptions.address!;
    const connection = await connectWhenUp(connectionOptions);
    const receiver = await LoadReceiver.start();
    const processEnv = {
      ...process.env,
      ...clientEnv,
      API_PORT: String(apiPort),
      API_TOKEN: HARNESS_TOKEN,
      WEBHOOK_ALLOW_HTTP: 'true',
      WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
      WORKER_METRICS_PORT: '0',
      // Another revision's worker bundles its own workflows at start-up.
      ...(root ? {} : { WORKER_WORKFLOW_BUNDLE: workflowBundle() }),
      ...env,
    };
    const run = (entry: string) => {
      // One folder per process: tsx's module-loader thread writes a profile of its own beside the main thread's.
      const profile = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${join(profileDir, entry.split('/')[0]!)}`] : [];
      // BENCH_LOG_DIR: each process's output in a file there (worker.log, api.log), to see what a stall was.
      const log = process.env.BENCH_LOG_DIR ? openSync(join(process.env.BENCH_LOG_DIR, `${entry.split('/')[0]}.log`), 'a') : 'ignore';
      const child = spawnEntry(entry, [], { nodeArgs: profile, env: processEnv, stdio: ['ignore', log, log], ...(root ? { cwd: root } : {}) });
      children.push(child);
      return child;
    };
    let worker = run('worker/main.ts');
    let api = run('api/main.ts');
    const apiUrl = `http://127.0.0.1:${apiPort}`;
    await waitForHealthy(apiUrl, 60_000, 'the API');
    await sleep(3_000); // the worker builds its workflow bundle
    let stopped = false;
    const pids: Stack['pids'] = { ...temporalPids, worker: [worker.pid!], api: [api.pid!] };
    const kill = async (child: ChildProcess) => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGKILL');
      await exited;
    };
    const stack: Stack = {
      address,
      apiUrl,
      client: new Client({ connection }),
      receiver,
      clientEnv,
      pids,
      ...(temporalServicePids ? { temporalServicePids } : {}),
      ...(postgresTransactions ? { postgresTransactions } : {}),
      backlog: () => 0,
      async restart(which) {
        if (!startDevServer) throw new Error('restart needs the dev server');
        await kill(worker);
        if (which === 'all') {
          await kill(api);
          const server = children.find((child) => child.pid === pids.temporal[0])!;
          await kill(server);
          pids.temporal = [startDevServer().pid!];
          api = run('api/main.ts');
          pids.api = [api.pid!];
        }
        worker = run('worker/main.ts');
        pids.worker = [worker.pid!];
        await waitForHealthy(apiUrl, 120_000, 'the API');
      },
      async stop() {
        if (stopped) return;
        stopped = true;
        await connection.close();
        await receiver.close();
        // The worker and the API exit on SIGTERM once drained (and then write their profiles).
        const exited = children.map((child) => (child.exitCode === null ? new Promise((resolve) => child.once('exit', resolve)) : Promise.resolve()));
        for (const child of children) child.kill('SIGTERM');
        await Promise.race([Promise.all(exited), sleep(20_000)]);
        await stopTemporal();
        rmSync(dir, { recursive: true, force: true });
        liveStacks.delete(stack);
      },
    };
    liveStacks.delete(starting);
    liveStacks.add(stack);
    return stack;
  } catch (err) {
    await starting.stop();
    throw err;
  }
}

/**
 * The stacks running now, ours and peers': a benchmark stopped by a signal stops them before it
 * exits (bench/run.ts), so that no process outlives the command that started it.
 */
export const liveStacks = new Set<{ stop(): Promise<void> }>();

let prebuiltBundle: string | undefined;
/**
 * The working tree's workflow bundle, built once per benchmark process, as the Docker image does
 * ahead of time (a worker given WORKER_WORKFLOW_BUNDLE starts without webpack: restarts are measured
 * as they would be in production).
 */
function workflowBundle(): string {
  if (!prebuiltBundle) {
    prebuiltBundle = join(tmpdir(), `webhooks-bench-bundle-${process.pid}.js`);
    execFileSync(process.execPath, ['--import', 'tsx', 'scripts/ops/build-workflow-bundle.ts', prebuiltBundle], { cwd: projectRoot, stdio: 'ignore' });
    process.once('exit', () => rmSync(prebuiltBundle!, { force: true }));
  }
  return prebuiltBundle;
}

export function createSubscription(stack: Stack, partnerId: string, batching: { windowMs: number; maxEvents: number }): Promise<string> {
  return createOne(stack.apiUrl, HARNESS_TOKEN, partnerId, { url: `http://127.0.0.1:${stack.receiver.port}/hook`, eventTypes: ['page.viewed'], batching });
}

/** One subscription for each partner, CREATE_CONCURRENCY at a time: 10,000 one by one take minutes. */
export async function createSubscriptions(stack: Stack, partners: readonly string[], batching: { windowMs: number; maxEvents: number }): Promise<void> {
  await forEachConcurrently(partners, (partnerId) => createSubscription(stack, partnerId, batching));
}

const CREATE_CONCURRENCY = 16;

/** Runs `task` on each item, at most CREATE_CONCURRENCY at once; fails with the first failure. */
export async function forEachConcurrently<T>(items: readonly T[], task: (item: T) => Promise<unknown>): Promise<void> {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await task(items[next++]!);
  };
  await Promise.all(Array.from({ length: Math.min(CREATE_CONCURRENCY, items.length) }, lane));
}
