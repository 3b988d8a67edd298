/**
 * The real processes a chaos scenario breaks: Temporal (the dev server on a SQLite file that
 * outlives its restarts, or a cluster as `npm run cluster` runs it: PostgreSQL and four services
 * behind an mTLS frontend, each process killable), workers and APIs as their own processes (each
 * can be killed with SIGKILL and started again), and an HTTPS receiver that demands our client
 * certificate and can misbehave.
 */
import { execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client, Connection, type ConnectionOptions } from '@temporalio/client';
import { connectWhenUp } from '../harness/connect';
import { HARNESS_TOKEN } from '../harness/token';
import { cpuSeconds, createSubscription, freePort, rssMb, sleep, waitForHealthy } from '../harness/processes';
import { newKeyEntry } from '../codec/key-ring';
import type { ClusterProcess } from '../scripts/dev/temporal-cluster';
import { startDevServerProcess } from '../scripts/dev/temporal-dev-server';
import { startTestCluster, type TestCluster } from '../harness/cluster';
import { makeCa, makeLeaf, type Pem } from '../scripts/dev/certs';
import { startProjectProcess, type ProjectProcess } from '../harness/processes';
import { Receiver, type Reply } from '../harness/receiver';


/** How the receiver treats requests (and, for `tls`, handshakes) right now. */
export type ReceiverMode = 'ok' | '500' | 'hang' | 'reset' | 'half-body' | 'redirect' | 'tls' | 'down';

export interface LoggedRequest {
  body: string;
  path: string;
  /** Answered 2xx: the partner took it. */
  accepted: boolean;
}

export interface ClusterShape {
  workers: number;
  apis: number;
  /** Extra environment for the worker and API processes. */
  env?: Record<string, string>;
  /** `dev`: the dev server (default); `cluster`: PostgreSQL and four Temporal services over mTLS. */
  temporal?: 'dev' | 'cluster';
}

export class Cluster {
  readonly log: LoggedRequest[] = [];
  readonly workers: (ProjectProcess | undefined)[] = [];
  readonly apis: ({ process: ProjectProcess; url: string } | undefined)[] = [];
  receiverMode: ReceiverMode = 'ok';
  /** How long the receiver takes to answer: keeps requests in flight when a process is killed. */
  receiverDelayMs = 0;
  /** Receiver paths that answer 503 whatever the mode: a partner whose endpoint is down. */
  readonly failingPaths = new Set<string>();
  /** Subscription ids by partner, as created. */
  readonly subscriptionIds = new Map<string, string>();
  private waiting = 0;

  /** Waits (up to 3 s) until the receiver holds a request it has not answered; returns how many. */
  async waitForInFlight(): Promise<number> {
    for (let i = 0; i < 150 && this.waiting === 0; i++) await sleep(20);
    return this.waiting;
  }
  client!: Client;
  private temporal: ChildProcess | undefined;
  private temporalCluster: TestCluster | undefined;
  private connection!: Connection;
  private receiver!: Receiver;
  private good!: Pem;
  private untrusted!: Pem;
  private clientCa!: string;
  private env!: Record<string, string>;

  private constructor(
    readonly dir: string,
    private readonly temporalPort: number,
  ) {}

  static async start(shape: ClusterShape): Promise<Cluster> {
    const cluster = new Cluster(mkdtempSync(join(tmpdir(), 'webhooks-chaos-')), await freePort());
    // If the runner dies (an exception, Ctrl-C), its server, workers and APIs go with it.
    process.once('exit', cluster.killAll);
    await cluster.boot(shape);
    return cluster;
  }

  private readonly killAll = () => {
    for (const child of [this.temporal, ...this.workers.map((w) => w?.child), ...this.apis.map((a) => a?.process.child)]) child?.kill('SIGKILL');
    this.temporalCluster?.cluster.killAll();
  };

  get address(): string {
    return this.temporalCluster?.cluster.address ?? `127.0.0.1:${this.temporalPort}`;
  }

  /** The live APIs' base URLs, for producers to spread their requests over. */
  apiUrls(): string[] {
    return this.apis.flatMap((api) => (api && api.process.child.exitCode === null && api.process.child.signalCode === null ? [api.url] : []));
  }

  receiverUrl(path: string): string {
    return this.receiver.url(path);
  }

  private async boot({ workers, apis, env = {}, temporal = 'dev' }: ClusterShape): Promise<void> {
    const certs = join(this.dir, 'certs');
    const ourCa = makeCa(certs, 'our-client-ca');
    const partnerCa = makeCa(certs, 'partner-ca');
    const client = makeLeaf(certs, ourCa, 'client', { name: 'webhooks-sender', usage: 'client' });
    this.good = makeLeaf(certs, partnerCa, 'receiver', { name: 'receiver.test', usage: 'server', ip: '127.0.0.1' });
    this.untrusted = makeLeaf(certs, makeCa(certs, 'untrusted-ca'), 'untrusted', { name: 'receiver.test', usage: 'server', ip: '127.0.0.1' });
    this.clientCa = ourCa.cert;
    this.receiver = await Receiver.start({
      https: { cert: readFileSync(this.good.cert), key: readFileSync(this.good.key), ca: readFileSync(ourCa.cert), requestCert: true, rejectUnauthorized: true },
    });
    this.receiver.onRequest = () => {
      this.waiting++;
      return this.receiverDelayMs > 0 ? sleep(this.receiverDelayMs) : undefined;
    };
    this.receiver.responder = (request) => {
      this.waiting--;
      const reply = this.failingPaths.has(request.path) ? 503 : this.replyFor(this.receiverMode);
      this.log.push({ body: request.body, path: request.path, accepted: typeof reply === 'number' && reply >= 200 && reply < 300 });
      return reply;
    };

    if (temporal === 'cluster') {
      this.temporalCluster = await startTestCluster();
      await this.connect(this.temporalCluster.cluster.connectionOptions());
    } else await this.startTemporal();
    // One prebuilt workflow bundle: a restarted worker is polling within a second or two.
    const bundle = join(this.dir, 'workflow-bundle.js');
    execFileSync(process.execPath, ['--import', 'tsx', 'scripts/ops/build-workflow-bundle.ts', bundle], { stdio: 'ignore' });
    this.env = {
      TEMPORAL_ADDRESS: this.address,
      ...this.temporalCluster?.cluster.clientEnv(),
      API_TOKEN: HARNESS_TOKEN,
      WEBHOOK_CLIENT_CERT: client.cert,
      WEBHOOK_CLIENT_KEY: client.key,
      WEBHOOK_CA_CERT: partnerCa.cert,
      WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
      // Retries within seconds, so a scenario settles in minutes: 25 s × n³ becomes 2.5 ms × n³.
      DELIVERY_BACKOFF_SCALE: '0.0001',
      WORKER_WORKFLOW_BUNDLE: bundle,
      WORKER_METRICS_PORT: '0',
      // Payloads encrypted, as every stack of ours runs: the faults are tried against what ships.
      PAYLOAD_KEYS: newKeyEntry('chaos'),
      PAYLOAD_ENCRYPTION: 'required',
      ...env,
    };
    for (let i = 0; i < workers; i++) this.startWorker();
    for (let i = 0; i < apis; i++) await this.startApi();
  }

  private replyFor(mode: ReceiverMode): Reply {
    switch (mode) {
      case 'ok':
      case 'tls':
      case 'down':
        return 200;
      case '500':
        return 500;
      case 'redirect':
        return { status: 302, headers: { location: this.receiver.url('/elsewhere') } };
      default:
        return mode;
    }
  }

  /** Switches the receiver's behaviour; `tls` serves a certificate our worker does not trust. */
  setReceiverMode(mode: ReceiverMode): void {
    this.receiverMode = mode;
    const pem = mode === 'tls' ? this.untrusted : this.good;
    // A new context replaces the whole old one: the CA that checks our client certificate goes along.
    this.receiver.useCertificate({ cert: readFileSync(pem.cert), key: readFileSync(pem.key), ca: readFileSync(this.clientCa) });
  }

  async startTemporal(): Promise<void> {
    this.temporal = startDevServerProcess(
      { ip: '127.0.0.1', port: this.temporalPort, dbFile: join(this.dir, 'temporal.sqlite'), headless: true },
      { stdio: 'ignore' },
    );
    await this.connect({ address: this.address });
  }

  /** Waits until Temporal answers; the first time, keeps the connection for the scenario's client. */
  private async connect(options: ConnectionOptions): Promise<void> {
    const connection = await connectWhenUp(options, 180_000);
    if (this.connection) await connection.close();
    else {
      this.connection = connection;
      this.client = new Client({ connection });
    }
  }

  /** On a cluster: kill -9 of one of its processes (PostgreSQL: an immediate shutdown, as after a crash). */
  async killClusterProcess(name: ClusterProcess): Promise<void> {
    await this.requireCluster().kill(name);
  }

  async restartClusterProcess(name: ClusterProcess): Promise<void> {
    await this.requireCluster().restart(name);
  }

  private requireCluster() {
    if (!this.temporalCluster) throw new Error('this scenario needs a cluster: shape.temporal = "cluster"');
    return this.temporalCluster.cluster;
  }

  /** SIGKILL: the server gets no chance to flush anything beyond what it already committed. */
  async killTemporal(): Promise<void> {
    const server = this.temporal;
    if (!server) return;
    const exited = new Promise((resolve) => server.once('exit', resolve));
    server.kill('SIGKILL');
    await exited;
    this.temporal = undefined;
  }

  startWorker(): number {
    return this.workers.push(startProjectProcess('worker/main.ts', this.env)) - 1;
  }

  async killWorker(index: number): Promise<void> {
    await killHard(this.workers[index]);
    this.workers[index] = undefined;
  }

  async startApi(): Promise<number> {
    const port = await freePort();
    const process = startProjectProcess('api/main.ts', { ...this.env, API_PORT: String(port) });
    const url = `http://127.0.0.1:${port}`;
    await waitForHealthy(url, 30_000, 'an API').catch(() => undefined);
    return this.apis.push({ process, url }) - 1;
  }

  async killApi(index: number): Promise<void> {
    await killHard(this.apis[index]?.process);
    this.apis[index] = undefined;
  }

  async createSubscription(partnerId: string, batching: { windowMs: number; maxEvents: number }): Promise<string> {
    const [api] = this.apiUrls();
    const id = await createSubscription(api!, HARNESS_TOKEN, partnerId, { url: this.receiver.url(`/hook/${partnerId}`), eventTypes: ['chaos.tick'], batching });
    this.subscriptionIds.set(partnerId, id);
    return id;
  }

  /** The Temporal server's resident memory (MiB), CPU seconds so far, and its SQLite files' size (MiB). */
  serverResources(): { rssMb: number; cpuSeconds: number; dbMb: number } {
    const pid = this.temporal?.pid;
    if (!pid) return { rssMb: 0, cpuSeconds: 0, dbMb: 0 };
    const db = join(this.dir, 'temporal.sqlite');
    const size = (file: string) => (existsSync(file) ? statSync(file).size : 0);
    return {
      rssMb: rssMb(pid),
      cpuSeconds: cpuSeconds(pid),
      dbMb: Math.round(((size(db) + size(`${db}-wal`)) / 2 ** 20) * 10) / 10,
    };
  }

  async stop(): Promise<void> {
    process.off('exit', this.killAll);
    await Promise.all([...this.apis.map((api) => api?.process.stop()), ...this.workers.map((worker) => worker?.stop())]);
    await this.connection?.close().catch(() => undefined);
    await this.killTemporal();
    await this.temporalCluster?.teardown();
    await this.receiver.close();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

async function killHard(process: ProjectProcess | undefined): Promise<void> {
  if (!process) return;
  process.child.kill('SIGKILL');
  await process.exited;
}
