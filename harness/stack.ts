/**
 * The one way tests, the benchmark (bench/) and the fault scenarios (chaos/) start a stack of our
 * processes: Temporal (the dev server as a process on a SQLite file in the stack's folder, or a
 * cluster as `npm run cluster` runs it: PostgreSQL and four services behind an mTLS frontend),
 * workers, APIs and a codec server as their own processes, and a receiver in this process. Each
 * process can be killed with SIGKILL and started again; nothing outlives the command.
 */
import { mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import type { ServerOptions as HttpsOptions } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, type ConnectionOptions } from '@temporalio/client';
import { temporalServices, type TemporalCluster } from '../scripts/dev/temporal-cluster';
import { startDevServerProcess } from '../scripts/dev/temporal-dev-server';
import { startTestCluster } from './cluster';
import { connectWhenUp } from './connect';
import {
  createSubscription as createOne,
  freePort,
  sleep,
  startProjectProcess,
  waitForHealthy,
  waitForOutput,
  watchProcess,
  type ProjectProcess,
} from './processes';
import { LoadReceiver, Receiver } from './receiver';
import { HARNESS_TOKEN } from './token';

export type TemporalKind = 'dev' | 'cluster';

/** `recording`: a Receiver over HTTP; `{ https }`: the same over HTTPS; `load`: the benchmark's LoadReceiver. */
export type ReceiverChoice = 'recording' | 'load' | { https: HttpsOptions };
type ReceiverOf<C extends ReceiverChoice> = C extends 'load' ? LoadReceiver : Receiver;

export interface StackOptions<C extends ReceiverChoice> {
  /** `dev` (the default) or `cluster`. */
  temporal?: TemporalKind;
  /** On the cluster: its Web UI, which decodes through the stack's codec server when there is one. */
  ui?: boolean;
  /** On the cluster's UI: the browser sends the operator's codec-server cookie (decision 0006). */
  codecIncludeCredentials?: boolean;
  /** Environment for the workers and APIs, over the stack's own (`stackEnv` below). */
  env?: Record<string, string>;
  /** How many workers and APIs to start (1 each by default). */
  workers?: number;
  apis?: number;
  /** A codec server process; its environment over CODEC_PORT (PAYLOAD_KEYS comes from `env`). */
  codec?: { env?: Record<string, string> };
  receiver?: C;
  /**
   * What becomes of the processes' output: kept for `output()` (the default), discarded, or
   * appended to `<dir>/worker.log`, `api.log` (the benchmark: BENCH_LOG_DIR).
   */
  logs?: 'keep' | 'discard' | { dir: string };
  /** The worker and the API under `--cpu-prof`, writing their profiles under it (worker/, api/) on exit. */
  profileDir?: string;
  /** Run the worker and the API of another checkout (an older revision, for an A/B run). */
  root?: string;
}

/** One process of the stack, as it runs now; killed or stopped, it can be started again the same way. */
export interface StackProcess {
  readonly name: string;
  /** The process running now; undefined once killed or stopped, until started again. */
  readonly current: ProjectProcess | undefined;
  readonly pid: number | undefined;
  readonly running: boolean;
  /** What the current process printed (when logs are kept). */
  output(): string;
  /** Starts it again: same environment, same port, same data. */
  start(): ProjectProcess;
  /** SIGKILL: no chance to finish or flush anything. */
  kill(): Promise<void>;
  /** SIGTERM (it drains), SIGKILL after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

export interface ServingProcess extends StackProcess {
  readonly url: string;
}

export interface Stack<R extends Receiver | LoadReceiver = Receiver> {
  /** The stack's folder (the dev server's SQLite file, the workflow bundle); removed by stop(). */
  dir: string;
  address: string;
  connectionOptions: ConnectionOptions;
  client: Client;
  /** What a process needs to reach Temporal (address, and on the cluster its client certificate). */
  clientEnv: Record<string, string>;
  /** The environment the workers and APIs run with (but API_PORT): to start one more by hand. */
  env: Record<string, string>;
  /** The dev server's process and its SQLite file (`temporal: 'dev'`). */
  devServer?: StackProcess & { dbFile: string };
  /** The cluster, to kill and restart its processes (`temporal: 'cluster'`). */
  cluster?: TemporalCluster;
  workers: StackProcess[];
  apis: ServingProcess[];
  codec?: ServingProcess;
  /** The first API's base URL. */
  apiUrl: string;
  receiver: R;
  /**
   * Starts one more worker (not waiting for it to poll). `checkout`: another checkout's build (a new
   * version of the code, in the deploy drill); `env`: on top of the stack's.
   */
  addWorker(options?: { checkout?: string; env?: Record<string, string> }): StackProcess;
  /** Starts one more API on a port of its own; resolves once it answers /healthz. */
  addApi(): Promise<ServingProcess>;
  /** What Temporal holds at rest: the dev server's SQLite files, or the cluster's database (pg_dump). */
  atRest(): Buffer;
  /** The processes the benchmark measures; on the cluster, `temporal` is its four services and `postgres` its database. */
  readonly pids: Record<'temporal' | 'worker' | 'api', number[]> & { postgres?: number[] };
  /** On the cluster, each Temporal service's process apart (their sum is `pids.temporal`). */
  temporalServicePids?: Record<string, number>;
  /** On the cluster, PostgreSQL's transactions in Temporal's databases so far (pg_stat_database). */
  postgresTransactions?: () => number;
  /** Events accepted by the last step and not yet delivered (set by the benchmark's step runner). */
  backlog: () => number;
  /**
   * A crash and a start again: SIGKILL to the workers (`worker`), or to the workers, the APIs and
   * the dev server (`all`; its SQLite file stays), then the same processes started on the same
   * ports. Resolves once the API answers /healthz again. The dev server only.
   */
  restart(which: 'worker' | 'all'): Promise<void>;
  stop(): Promise<void>;
}

/**
 * What every process of a stack runs with unless `env` says otherwise: the harness's token, plain
 * HTTP and loopback receivers allowed, metrics on a free port.
 */
function stackEnv(clientEnv: Record<string, string>): Record<string, string> {
  return {
    ...clientEnv,
    API_TOKEN: HARNESS_TOKEN,
    WEBHOOK_ALLOW_HTTP: 'true',
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
    WORKER_METRICS_PORT: '0',
  };
}

export async function startStack<C extends ReceiverChoice = 'recording'>(options: StackOptions<C> = {}): Promise<Stack<ReceiverOf<C>>> {
  const { temporal = 'dev', workers = 1, apis = 1, logs = 'keep', profileDir, root } = options;
  const dir = mkdtempSync(join(tmpdir(), 'webhooks-stack-'));
  // Every process this stack starts, live or not: an exception or a signal kills them all.
  const children = new Set<ProjectProcess>();
  let cluster: TemporalCluster | undefined;
  let stopCluster = async () => {};
  const killAll = () => {
    for (const child of children) child.child.kill('SIGKILL');
    cluster?.killAll();
  };
  process.once('exit', killAll);
  const starting = {
    async stop() {
      liveStacks.delete(starting);
      process.off('exit', killAll);
      await Promise.all([...children].map((child) => child.kill()));
      await stopCluster().catch(() => undefined);
      rmSync(dir, { recursive: true, force: true });
    },
  };
  liveStacks.add(starting);

  const track = (name: string, launch: () => ProjectProcess): StackProcess => {
    let current: ProjectProcess | undefined;
    const handle: StackProcess = {
      name,
      get current() {
        return current;
      },
      get pid() {
        return current?.child.pid;
      },
      get running() {
        return current !== undefined && current.child.exitCode === null && current.child.signalCode === null;
      },
      output: () => current?.output() ?? '',
      start() {
        if (handle.running) throw new Error(`${name} runs already`);
        current = launch();
        children.add(current);
        return current;
      },
      async kill() {
        await current?.kill();
        current = undefined;
      },
      async stop(graceMs) {
        await current?.stop(graceMs);
        current = undefined;
      },
    };
    handle.start();
    return handle;
  };

  try {
    const codecPort = options.codec ? await freePort() : undefined;
    const codecUrl = codecPort ? `http://127.0.0.1:${codecPort}` : undefined;
    let connectionOptions: ConnectionOptions;
    let clientEnv: Record<string, string>;
    let devServer: Stack['devServer'];
    if (temporal === 'cluster') {
      const test = await startTestCluster({
        ui: options.ui ?? false,
        ...(codecUrl && options.ui ? { codec: { codecEndpoint: codecUrl, codecIncludeCredentials: options.codecIncludeCredentials ?? false } } : {}),
      });
      cluster = test.cluster;
      stopCluster = () => test.teardown();
      connectionOptions = cluster.connectionOptions();
      clientEnv = cluster.clientEnv();
    } else {
      const port = await freePort();
      const dbFile = join(dir, 'temporal.sqlite');
      const server = track('the Temporal dev server', () =>
        watchProcess(startDevServerProcess({ ip: '127.0.0.1', port, dbFile, headless: true }, { stdio: 'ignore' })),
      );
      devServer = Object.assign(server, { dbFile });
      connectionOptions = { address: `127.0.0.1:${port}` };
      clientEnv = { TEMPORAL_ADDRESS: connectionOptions.address! };
    }
    const connection = await connectWhenUp(connectionOptions, 180_000);
    const choice: ReceiverChoice = options.receiver ?? 'recording';
    const receiver = (choice === 'load' ? await LoadReceiver.start() : await Receiver.start(choice === 'recording' ? {} : { https: choice.https })) as ReceiverOf<C>;

    // A compiled worker runs its build's workflow bundle; another revision's, without one, bundles its own at start-up.
    const env = { ...stackEnv(clientEnv), ...options.env };
    const run = (entry: string, extra: Record<string, string> = {}, checkout = root) => {
      const folder = entry.split('/')[0]!;
      // One folder per process: tsx's module-loader thread writes a profile of its own beside the main thread's.
      const nodeArgs = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${join(profileDir, folder)}`] : [];
      const output = logs === 'keep' ? 'keep' : logs === 'discard' ? 'ignore' : openSync(join(logs.dir, `${folder}.log`), 'a');
      return startProjectProcess(entry, { ...env, ...extra }, { nodeArgs, output, ...(checkout ? { cwd: checkout } : {}) });
    };
    const workerHandles: StackProcess[] = [];
    const apiHandles: ServingProcess[] = [];
    const addWorker = ({ checkout, env: extra }: { checkout?: string; env?: Record<string, string> } = {}) => {
      const worker = track(`worker ${workerHandles.length}`, () => run('worker/main.ts', extra, checkout ?? root));
      workerHandles.push(worker);
      return worker;
    };
    const startApi = async () => {
      const port = await freePort();
      const api = Object.assign(
        track(`API ${apiHandles.length}`, () => run('api/main.ts', { API_PORT: String(port) })),
        { url: `http://127.0.0.1:${port}` },
      );
      apiHandles.push(api);
      return api;
    };
    const addApi = async () => {
      const api = await startApi();
      await healthy(api);
      return api;
    };
    for (let i = 0; i < workers; i++) addWorker();
    for (let i = 0; i < apis; i++) await startApi();
    const codec =
      codecUrl &&
      Object.assign(
        track('the codec server', () =>
          startProjectProcess('codec/main.ts', {
            ...(env.PAYLOAD_KEYS ? { PAYLOAD_KEYS: env.PAYLOAD_KEYS } : {}),
            CODEC_PORT: String(codecPort),
            ...(cluster?.uiUrl ? { CODEC_CORS_ORIGINS: cluster.uiUrl } : {}),
            ...options.codec?.env,
          }),
        ),
        { url: codecUrl },
      );
    await Promise.all([
      ...apiHandles.map((api) => healthy(api)),
      ...(codec ? [healthy(codec)] : []),
      // With its output kept, a worker is ready once it says it polls; without, after a pause.
      ...workerHandles.map((worker) => (logs === 'keep' ? waitForOutput(worker.current!, 'worker: polling', 60_000, worker.name) : sleep(3_000))),
    ]);

    const pidsOf = (handles: StackProcess[]) => handles.flatMap((handle) => (handle.pid ? [handle.pid] : []));
    const clusterPid = (name: string) => cluster!.processes.get(name as never)!.pid!;
    let stopped = false;
    const stack: Stack<ReceiverOf<C>> = {
      dir,
      address: connectionOptions.address!,
      connectionOptions,
      client: new Client({ connection }),
      clientEnv,
      env,
      ...(devServer ? { devServer } : {}),
      ...(cluster ? { cluster } : {}),
      workers: workerHandles,
      apis: apiHandles,
      ...(codec ? { codec } : {}),
      apiUrl: apiHandles[0]?.url ?? '',
      receiver,
      addWorker,
      addApi,
      atRest: () =>
        cluster ? Buffer.from(cluster.dumpDatabase()) : Buffer.concat([devServer!.dbFile, `${devServer!.dbFile}-wal`, `${devServer!.dbFile}-journal`].map(readIfThere)),
      get pids() {
        return {
          ...(cluster ? { temporal: temporalServices.map(clusterPid), postgres: [clusterPid('postgres')] } : { temporal: pidsOf([devServer!]) }),
          worker: pidsOf(workerHandles),
          api: pidsOf(apiHandles),
        };
      },
      ...(cluster
        ? {
            temporalServicePids: Object.fromEntries(temporalServices.map((service) => [service, clusterPid(service)])),
            postgresTransactions: () => cluster!.transactionCount(),
          }
        : {}),
      backlog: () => 0,
      async restart(which) {
        if (!devServer) throw new Error('restart needs the dev server');
        await Promise.all(workerHandles.map((worker) => worker.kill()));
        if (which === 'all') {
          await Promise.all(apiHandles.map((api) => api.kill()));
          await devServer.kill();
          devServer.start();
          for (const api of apiHandles) api.start();
        }
        for (const worker of workerHandles) worker.start();
        await waitForHealthy(stack.apiUrl, 120_000, 'the API');
      },
      async stop() {
        if (stopped) return;
        stopped = true;
        await connection.close().catch(() => undefined);
        await receiver.close();
        // Our processes exit on SIGTERM once drained (and then write their profiles).
        const graceMs = profileDir ? 20_000 : 10_000;
        await Promise.all([...workerHandles, ...apiHandles, ...(codec ? [codec] : [])].map((handle) => handle.stop(graceMs)));
        await devServer?.stop();
        await stopCluster();
        process.off('exit', killAll);
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

/** A file's bytes, or none if it is not there (SQLite deletes its rollback journal after each transaction). */
function readIfThere(file: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return Buffer.alloc(0);
    throw err;
  }
}

export const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? null;

/** The benchmark's stack: its receiver only counts. */
export type LoadStack = Stack<LoadReceiver>;

export function createSubscription(stack: LoadStack, partnerId: string, batching: { windowMs: number; maxEvents: number }): Promise<string> {
  return createOne(stack.apiUrl, HARNESS_TOKEN, partnerId, { url: `http://127.0.0.1:${stack.receiver.port}/hook`, eventTypes: ['page.viewed'], batching });
}

/** One subscription for each partner, CREATE_CONCURRENCY at a time: 10,000 one by one take minutes. */
export async function createSubscriptions(stack: LoadStack, partners: readonly string[], batching: { windowMs: number; maxEvents: number }): Promise<void> {
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

/**
 * The benchmark's preset of startStack: a receiver that only counts, and the processes' output
 * discarded, or appended to files in BENCH_LOG_DIR (worker.log, api.log) to see what a stall was.
 */
export function startLoadStack(env: Record<string, string> = {}, options: Pick<StackOptions<'load'>, 'temporal' | 'profileDir' | 'root'> = {}): Promise<LoadStack> {
  const logDir = process.env.BENCH_LOG_DIR;
  return startStack({ ...options, env, receiver: 'load', logs: logDir ? { dir: logDir } : 'discard' });
}

/** Waits for a process's /healthz; if it exits first, fails at once with the end of what it printed. */
async function healthy(handle: ServingProcess): Promise<void> {
  const running = handle.current;
  if (!running) throw new Error(`${handle.name} is not running`);
  let settled = false;
  const exitedFirst = running.exited.then((code) => {
    if (settled) return;
    throw new Error(`${handle.name} exited (${code ?? running.child.signalCode}) before answering /healthz; it printed:\n${handle.output().slice(-4_000)}`);
  });
  try {
    await Promise.race([waitForHealthy(handle.url, 60_000, handle.name), exitedFirst]);
  } finally {
    settled = true;
  }
}
