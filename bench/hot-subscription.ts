/**
 * Measures one hot subscription: the real dev server (SQLite on disk, WAL), the real worker and
 * API processes, a load generator process offering RATE single-event requests per second from
 * CONCURRENCY clients, and a local receiver that answers 200. Reports the 202 rate and latency,
 * the signal rate Temporal saw, continue-as-new and workflow task failures, end-to-end latency
 * and each process's CPU and memory. Run: `npm run bench:hot` (RATE, CONCURRENCY, DURATION_S).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { createServer } from 'node:http';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Client, Connection } from '@temporalio/client';
import { startDevServerProcess } from '../scripts/temporal-dev-server';
import { subscriptionWorkflowId } from '../workflows/ids';

const root = fileURLToPath(new URL('..', import.meta.url));
const rate = Number(process.env.RATE ?? 5000);
const concurrency = Number(process.env.CONCURRENCY ?? 200);
const durationS = Number(process.env.DURATION_S ?? 20);
const token = 'bench-token-0123456789abcdef';

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function cpuSeconds(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100; // utime + stime, in clock ticks of 10 ms
}

function peakRssMb(pid: number): number {
  const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return match ? Math.round(Number(match[1]) / 1024) : 0;
}

const pct = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? null;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'webhooks-bench-'));
  const [temporalPort, apiPort, receiverPort] = [await freePort(), await freePort(), await freePort()];
  const address = `127.0.0.1:${temporalPort}`;
  const children: ChildProcess[] = [];
  const stopAll = () => children.forEach((child) => child.kill('SIGTERM'));
  process.on('exit', stopAll);

  // The receiver: answers 200 at once, notes when each event arrived.
  const arrivals = new Map<string, number>();
  let requests = 0;
  const receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const now = Date.now();
      requests++;
      const body = JSON.parse(Buffer.concat(chunks).toString()) as { events: { id: string }[] };
      for (const event of body.events) if (!arrivals.has(event.id)) arrivals.set(event.id, now);
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(receiverPort, '127.0.0.1', resolve));

  const server = startDevServerProcess({ ip: '127.0.0.1', port: temporalPort, dbFile: join(dir, 'temporal.sqlite'), headless: true }, { stdio: 'ignore' });
  children.push(server);
  let connection: Connection | undefined;
  for (let i = 0; i < 120 && !connection; i++) {
    // A hot run's history can pass gRPC's default 4 MB message limit: this reader takes 64 MB.
    connection = await Connection.connect({ address, connectTimeout: 500, channelArgs: { 'grpc.max_receive_message_length': 64 * 2 ** 20 } }).catch(async () => {
      await new Promise((resolve) => setTimeout(resolve, 250));
      return undefined;
    });
  }
  if (!connection) throw new Error('the Temporal dev server did not start');
  const client = new Client({ connection });

  const processEnv = {
    ...process.env,
    TEMPORAL_ADDRESS: address,
    API_PORT: String(apiPort),
    API_TOKEN: token,
    WEBHOOK_ALLOW_HTTP: 'true',
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
    WORKER_METRICS_PORT: '0',
  };
  const run = (entry: string) => {
    const child = spawn(process.execPath, ['--import', 'tsx', entry], { cwd: root, env: processEnv, stdio: ['ignore', 'ignore', 'ignore'] });
    children.push(child);
    return child;
  };
  const worker = run('worker/main.ts');
  const api = run('api/main.ts');
  const apiUrl = `http://127.0.0.1:${apiPort}`;
  for (let i = 0; i < 240; i++) {
    if ((await fetch(`${apiUrl}/healthz`).catch(() => undefined))?.ok) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  const partnerId = 'bench-hot';
  const created = (await (
    await fetch(`${apiUrl}/v1/partners/${partnerId}/subscriptions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ url: `http://127.0.0.1:${receiverPort}/hook`, eventTypes: ['page.viewed'], batching: { windowMs: 1000, maxEvents: 100 } }),
    })
  ).json()) as { id: string };
  await new Promise((resolve) => setTimeout(resolve, 3_000)); // the worker's workflow bundle is built

  const pids = { temporal: server.pid!, worker: worker.pid!, api: api.pid! };
  const cpuBefore = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, cpuSeconds(pid)]));
  const load = spawn(process.execPath, ['--import', 'tsx', 'bench/load-client.ts'], {
    cwd: root,
    env: { ...process.env, API_URL: apiUrl, API_TOKEN: token, PARTNER_ID: partnerId, RATE: String(rate), CONCURRENCY: String(concurrency), DURATION_S: String(durationS) },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let output = '';
  load.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await new Promise((resolve) => load.once('exit', resolve));
  const result = JSON.parse(output) as {
    acceptedCount: number;
    accepted: [string, number][];
    [key: string]: unknown;
  };

  // Wait for every accepted event to arrive (or give up after 120 s).
  const settleStart = Date.now();
  while (result.accepted.some(([id]) => !arrivals.has(id)) && Date.now() - settleStart < 120_000) {
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  const cpu = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, +(cpuSeconds(pid) - cpuBefore[name]!).toFixed(1)]));
  const rss = Object.fromEntries(Object.entries(pids).map(([name, pid]) => [name, peakRssMb(pid)]));
  const endToEnd = result.accepted.filter(([id]) => arrivals.has(id)).map(([id, ackAt]) => arrivals.get(id)! - ackAt).sort((a, b) => a - b);

  // What Temporal saw: every run of the subscription workflow.
  const workflowId = subscriptionWorkflowId(partnerId, created.id);
  let runs = 0, signals = 0, taskFailures = 0, maxHistoryEvents = 0, maxHistoryMb = 0;
  for await (const execution of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
    runs++;
    const history = await client.workflow.getHandle(workflowId, execution.runId).fetchHistory();
    const events = history.events ?? [];
    signals += events.filter((e) => e.workflowExecutionSignaledEventAttributes).length;
    taskFailures += events.filter((e) => e.workflowTaskFailedEventAttributes).length;
    maxHistoryEvents = Math.max(maxHistoryEvents, events.length);
    maxHistoryMb = Math.max(maxHistoryMb, +((execution.historySize ?? 0) / 2 ** 20).toFixed(2));
  }
  const loadSeconds = (result.durationMs as number) / 1000;
  const { accepted: _ids, ...load202 } = result;
  const report = {
    scenario: 'one hot subscription, maxEvents 100, windowMs 1000, single-event requests',
    machine: { cores: cpus().length, cpu: cpus()[0]?.model, memoryGb: Math.round(totalmem() / 2 ** 30), node: process.version },
    load: load202,
    delivered: { events: arrivals.size, requests, missing: result.accepted.filter(([id]) => !arrivals.has(id)).length },
    endToEndMs: { p50: pct(endToEnd, 50), p95: pct(endToEnd, 95), p99: pct(endToEnd, 99) },
    temporal: { runs, signals, signalsPerSecond: +(signals / loadSeconds).toFixed(1), workflowTaskFailures: taskFailures, maxHistoryEvents, maxHistoryMb },
    cpuSeconds: cpu,
    peakRssMb: rss,
  };
  console.log(JSON.stringify(report, null, 2));
  mkdirSync(join(root, 'bench/results'), { recursive: true });
  writeFileSync(join(root, `bench/results/hot-subscription-${new Date().toISOString().replace(/[:.]/g, '-')}.json`), JSON.stringify(report, null, 2) + '\n');

  await connection.close();
  receiver.close();
  stopAll();
  rmSync(dir, { recursive: true, force: true });
  process.exit(0);
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
