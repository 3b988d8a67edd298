/**
 * The real stack for benchmarks: Temporal (the dev server from the installed binary, SQLite on
 * disk, WAL; or with `temporal: 'cluster'` a cluster as `npm run cluster` runs it: PostgreSQL and
 * four services behind an mTLS frontend), the worker and the API as their own processes, and a
 * fast local receiver in this process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection, type ConnectionOptions } from '@temporalio/client';
import { temporalServices } from '../scripts/temporal-cluster';
import { startDevServerProcess } from '../scripts/temporal-dev-server';
import { startTestCluster } from '../test/support/cluster';

export const root = fileURLToPath(new URL('..', import.meta.url));
export const TOKEN = 'bench-token-0123456789abcdef';

export async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * CPU seconds (user + system) a process and its descendants have used so far; of several, their
 * sum. Descendants count: PostgreSQL does its work in one backend process per connection. The live
 * ones are read from /proc (one pass over it), and the ended ones are in their parent's cutime and
 * cstime.
 */
export function cpuSeconds(pid: number | number[]): number {
  const table = processTable();
  const treeCpu = (one: number): number =>
    (table.get(one)?.ticks ?? 0) / 100 + [...table].filter(([, entry]) => entry.ppid === one).reduce((sum, [child]) => sum + treeCpu(child), 0);
  return (Array.isArray(pid) ? pid : [pid]).reduce((sum, one) => sum + treeCpu(one), 0);
}

/** Every live process's parent and CPU ticks (utime + stime + cutime + cstime). */
function processTable(): Map<number, { ppid: number; ticks: number }> {
  const table = new Map<number, { ppid: number; ticks: number }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const fields = readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]!.split(' ');
      table.set(Number(entry), { ppid: Number(fields[1]), ticks: fields.slice(11, 15).reduce((sum, field) => sum + Number(field), 0) });
    } catch {
      // The process ended while we looked.
    }
  }
  return table;
}

/** The most resident memory a process has used, in MiB; of several, the sum of their peaks. */
export function peakRssMb(pid: number | number[]): number {
  if (Array.isArray(pid)) return pid.reduce((sum, one) => sum + peakRssMb(one), 0);
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Math.round(Number(match[1]) / 1024) : 0;
}

export type TemporalKind = 'dev' | 'cluster';

export const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? null;

/** Answers 200 at once (or 500 for a share of requests), noting when each event first arrived. */
export class BenchReceiver {
  readonly arrivals = new Map<string, number>();
  requests = 0;
  failed = 0;
  failRatio = 0;
  private server!: Server;
  port = 0;

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        this.requests++;
        if (this.failRatio > 0 && Math.random() < this.failRatio) {
          this.failed++;
          return void res.writeHead(500).end('injected failure');
        }
        const now = Date.now();
        const body = JSON.parse(Buffer.concat(chunks).toString()) as { events: { id: string }[] };
        for (const event of body.events) if (!this.arrivals.has(event.id)) this.arrivals.set(event.id, now);
        res.writeHead(200).end();
      });
    });
    this.server.keepAliveTimeout = 60_000;
    this.port = await freePort();
    await new Promise<void>((resolve) => this.server.listen(this.port, '127.0.0.1', resolve));
  }

  reset(): void {
    this.arrivals.clear();
    this.requests = 0;
    this.failed = 0;
    this.failRatio = 0;
  }

  close(): void {
    this.server.closeAllConnections();
    this.server.close();
  }
}

export interface Stack {
  address: string;
  apiUrl: string;
  client: Client;
  receiver: BenchReceiver;
  /** What our processes need to reach Temporal (address, and on the cluster its client certificate). */
  clientEnv: Record<string, string>;
  /** The processes measured; on the cluster, `temporal` is its four services and `postgres` its database. */
  pids: Record<'temporal' | 'worker' | 'api', number[]> & { postgres?: number[] };
  /** Events accepted by the last step and not yet delivered (set by the step runner). */
  backlog: () => number;
  stop(): Promise<void>;
}

/** With `profileDir`, the worker and the API run under `--cpu-prof` and write their profiles under it (worker/, api/) on exit. */
export async function startStack(
  env: Record<string, string> = {},
  { profileDir, temporal = 'dev' }: { profileDir?: string; temporal?: TemporalKind } = {},
): Promise<Stack> {
  const dir = mkdtempSync(join(tmpdir(), 'webhooks-bench-'));
  const apiPort = await freePort();
  const children: ChildProcess[] = [];
  let connectionOptions: ConnectionOptions;
  let clientEnv: Record<string, string>;
  let temporalPids: Pick<Stack['pids'], 'temporal' | 'postgres'>;
  let stopTemporal = async () => {};
  if (temporal === 'cluster') {
    const test = await startTestCluster();
    connectionOptions = test.cluster.connectionOptions();
    clientEnv = test.cluster.clientEnv();
    const pidOf = (name: string) => test.cluster.processes.get(name as never)!.pid!;
    temporalPids = { temporal: temporalServices.map(pidOf), postgres: [pidOf('postgres')] };
    stopTemporal = () => test.teardown();
  } else {
    const temporalPort = await freePort();
    const server = startDevServerProcess({ ip: '127.0.0.1', port: temporalPort, dbFile: join(dir, 'temporal.sqlite'), headless: true }, { stdio: 'ignore' });
    children.push(server);
    connectionOptions = { address: `127.0.0.1:${temporalPort}` };
    clientEnv = { TEMPORAL_ADDRESS: connectionOptions.address! };
    temporalPids = { temporal: [server.pid!] };
  }
  const address = connectionOptions.address!;
  let connection: Connection | undefined;
  for (let i = 0; i < 120 && !connection; i++) {
    // A hot run's history can pass gRPC's default 4 MB message limit: this reader takes 64 MB.
    connection = await Connection.connect({ ...connectionOptions, connectTimeout: 500, channelArgs: { 'grpc.max_receive_message_length': 64 * 2 ** 20 } }).catch(async () => {
      await sleep(250);
      return undefined;
    });
  }
  if (!connection) throw new Error('the Temporal server did not start');
  const receiver = new BenchReceiver();
  await receiver.start();
  const processEnv = {
    ...process.env,
    ...clientEnv,
    API_PORT: String(apiPort),
    API_TOKEN: TOKEN,
    WEBHOOK_ALLOW_HTTP: 'true',
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
    WORKER_METRICS_PORT: '0',
    ...env,
  };
  const run = (entry: string) => {
    // One folder per process: tsx's module-loader thread writes a profile of its own beside the main thread's.
    const profile = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${join(profileDir, entry.split('/')[0]!)}`] : [];
    const child = spawn(process.execPath, [...profile, '--import', 'tsx', entry], { cwd: root, env: processEnv, stdio: ['ignore', 'ignore', 'ignore'] });
    children.push(child);
    return child;
  };
  const worker = run('worker/main.ts');
  const api = run('api/main.ts');
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  for (let i = 0; i < 240; i++) {
    if ((await fetch(`${apiUrl}/healthz`).catch(() => undefined))?.ok) break;
    await sleep(250);
  }
  await sleep(3_000); // the worker builds its workflow bundle
  let stopped = false;
  return {
    address,
    apiUrl,
    client: new Client({ connection }),
    receiver,
    clientEnv,
    pids: { ...temporalPids, worker: [worker.pid!], api: [api.pid!] },
    backlog: () => 0,
    async stop() {
      if (stopped) return;
      stopped = true;
      await connection.close();
      receiver.close();
      // The worker and the API exit on SIGTERM once drained (and then write their profiles).
      const exited = children.map((child) => (child.exitCode === null ? new Promise((resolve) => child.once('exit', resolve)) : Promise.resolve()));
      for (const child of children) child.kill('SIGTERM');
      await Promise.race([Promise.all(exited), sleep(20_000)]);
      await stopTemporal();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function createSubscription(stack: Stack, partnerId: string, batching: { windowMs: number; maxEvents: number }): Promise<string> {
  const response = await fetch(`${stack.apiUrl}/v1/partners/${partnerId}/subscriptions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ url: `http://127.0.0.1:${stack.receiver.port}/hook`, eventTypes: ['page.viewed'], batching }),
  });
  if (response.status !== 201) throw new Error(`creating a subscription answered ${response.status}`);
  return ((await response.json()) as { id: string }).id;
}
