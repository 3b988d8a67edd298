/**
 * The real processes a chaos scenario breaks: Temporal (the dev server on a SQLite file that
 * outlives its restarts, or a cluster as `npm run cluster` runs it: PostgreSQL and four services
 * behind an mTLS frontend, each process killable), workers and APIs as their own processes (each
 * can be killed with SIGKILL and started again), and an HTTPS receiver that demands our client
 * certificate and can misbehave.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@temporalio/client';
import { connectWhenUp } from '../harness/connect';
import { HARNESS_TOKEN } from '../harness/token';
import { cpuSeconds, createSubscription, rssMb, sleep } from '../harness/processes';
import { startStack, type ServingProcess, type Stack, type StackProcess } from '../harness/stack';
import { newKeyEntry } from '../codec/key-ring';
import type { ClusterProcess } from '../scripts/dev/temporal-cluster';
import { makeCa, makeLeaf, type Pem } from '../scripts/dev/certs';
import type { Reply } from '../harness/receiver';

/** How the receiver treats requests (and, for `tls`, handshakes) right now. */
export type ReceiverMode = 'ok' | '500' | 'hang' | 'reset' | 'half-body' | 'redirect' | 'tls' | 'down';

export interface LoggedRequest {
  body: string;
  path: string;
  /** Answered 2xx: the partner took it. */
  accepted: boolean;
  /** When the receiver had the whole request (ms since the epoch). */
  receivedAt: number;
  /** The attempt number the request says it is (`webhook-attempt`). */
  attempt: number;
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

  private constructor(
    private readonly stack: Stack,
    /** The certificates (ours and the partner's), apart from the stack's folder. */
    private readonly certsDir: string,
    private readonly good: Pem,
    private readonly untrusted: Pem,
    private readonly clientCa: string,
  ) {
    stack.receiver.onRequest = () => {
      this.waiting++;
      return this.receiverDelayMs > 0 ? sleep(this.receiverDelayMs) : undefined;
    };
    stack.receiver.responder = (request) => {
      this.waiting--;
      const reply = this.failingPaths.has(request.path) ? 503 : this.replyFor(this.receiverMode);
      this.log.push({
        body: request.body,
        path: request.path,
        accepted: typeof reply === 'number' && reply >= 200 && reply < 300,
        receivedAt: request.receivedAt,
        attempt: Number(request.headers['webhook-attempt'] ?? 0),
      });
      return reply;
    };
  }

  /** The stack (harness/stack.ts) with an HTTPS receiver that demands our client certificate. */
  static async start({ workers, apis, env = {}, temporal = 'dev' }: ClusterShape): Promise<Cluster> {
    const dir = mkdtempSync(join(tmpdir(), 'webhooks-chaos-'));
    try {
      const certs = join(dir, 'certs');
      const ourCa = makeCa(certs, 'our-client-ca');
      const partnerCa = makeCa(certs, 'partner-ca');
      const client = makeLeaf(certs, ourCa, 'client', { name: 'webhooks-sender', usage: 'client' });
      const good = makeLeaf(certs, partnerCa, 'receiver', { name: 'receiver.test', usage: 'server', ip: '127.0.0.1' });
      const untrusted = makeLeaf(certs, makeCa(certs, 'untrusted-ca'), 'untrusted', { name: 'receiver.test', usage: 'server', ip: '127.0.0.1' });
      const stack = await startStack({
        temporal,
        workers,
        apis,
        receiver: { https: { cert: readFileSync(good.cert), key: readFileSync(good.key), ca: readFileSync(ourCa.cert), requestCert: true, rejectUnauthorized: true } },
        env: {
          WEBHOOK_CLIENT_CERT: client.cert,
          WEBHOOK_CLIENT_KEY: client.key,
          WEBHOOK_CA_CERT: partnerCa.cert,
          // HTTPS only, as shipped: the stack allows plain HTTP for receivers of other tests.
          WEBHOOK_ALLOW_HTTP: 'false',
          // Retries within seconds, so a scenario settles in minutes: 25 s × n³ becomes 2.5 ms × n³.
          DELIVERY_BACKOFF_SCALE: '0.0001',
          // Payloads encrypted, as every stack of ours runs: the faults are tried against what ships.
          PAYLOAD_KEYS: newKeyEntry('chaos'),
          PAYLOAD_ENCRYPTION: 'required',
          ...env,
        },
      });
      return new Cluster(stack, dir, good, untrusted, ourCa.cert);
    } catch (err) {
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }

  get client(): Client {
    return this.stack.client;
  }

  get address(): string {
    return this.stack.address;
  }

  get workers(): StackProcess[] {
    return this.stack.workers;
  }

  get apis(): ServingProcess[] {
    return this.stack.apis;
  }

  /** The live APIs' base URLs, for producers to spread their requests over. */
  apiUrls(): string[] {
    return this.stack.apis.flatMap((api) => (api.running ? [api.url] : []));
  }

  receiverUrl(path: string): string {
    return this.stack.receiver.url(path);
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
        return { status: 302, headers: { location: this.stack.receiver.url('/elsewhere') } };
      default:
        return mode;
    }
  }

  /** Switches the receiver's behaviour; `tls` serves a certificate our worker does not trust. */
  setReceiverMode(mode: ReceiverMode): void {
    this.receiverMode = mode;
    const pem = mode === 'tls' ? this.untrusted : this.good;
    // A new context replaces the whole old one: the CA that checks our client certificate goes along.
    this.stack.receiver.useCertificate({ cert: readFileSync(pem.cert), key: readFileSync(pem.key), ca: readFileSync(this.clientCa) });
  }

  /** Starts the dev server again on its SQLite file; resolves once it answers. */
  async startTemporal(): Promise<void> {
    this.requireDevServer().start();
    await (await connectWhenUp(this.stack.connectionOptions, 180_000)).close();
  }

  /** SIGKILL: the server gets no chance to flush anything beyond what it already committed. */
  async killTemporal(): Promise<void> {
    await this.requireDevServer().kill();
  }

  private requireDevServer() {
    if (!this.stack.devServer) throw new Error('this scenario needs the dev server: shape.temporal = "dev"');
    return this.stack.devServer;
  }

  /** On a cluster: kill -9 of one of its processes (PostgreSQL: an immediate shutdown, as after a crash). */
  async killClusterProcess(name: ClusterProcess): Promise<void> {
    await this.requireCluster().kill(name);
  }

  async restartClusterProcess(name: ClusterProcess): Promise<void> {
    await this.requireCluster().restart(name);
  }

  private requireCluster() {
    if (!this.stack.cluster) throw new Error('this scenario needs a cluster: shape.temporal = "cluster"');
    return this.stack.cluster;
  }

  /** A new worker (a killed one stays dead); answers its index. */
  startWorker(): number {
    this.stack.addWorker();
    return this.stack.workers.length - 1;
  }

  /** A worker of another checkout's build (the deploy drill's next version), with `env` on top of the stack's. */
  startWorkerOf(checkout: string, env: Record<string, string>): StackProcess {
    return this.stack.addWorker({ checkout, env });
  }

  /** The environment every process of the stack runs with (Temporal's address, the payload keys, …). */
  get env(): Record<string, string> {
    return this.stack.env;
  }

  async killWorker(index: number): Promise<void> {
    await this.stack.workers[index]?.kill();
  }

  /** A new API on a port of its own (a killed one stays dead); answers its index. */
  async startApi(): Promise<number> {
    // An API that does not answer in time still counts: the producers find out, as a client would.
    await this.stack.addApi().catch(() => undefined);
    return this.stack.apis.length - 1;
  }

  async killApi(index: number): Promise<void> {
    await this.stack.apis[index]?.kill();
  }

  async createSubscription(partnerId: string, batching: { windowMs: number; maxEvents: number }): Promise<string> {
    const [api] = this.apiUrls();
    const id = await createSubscription(api!, HARNESS_TOKEN, partnerId, { url: this.stack.receiver.url(`/hook/${partnerId}`), eventTypes: ['chaos.tick'], batching }).catch((err: unknown) => {
      // The API's log says why: a 500 carries no detail.
      const log = this.stack.apis.map((process) => process.output().split('\n').filter((line) => line.includes('"error"')).slice(-3).join('\n')).join('\n');
      throw new Error(`${(err as Error).message}\nthe API's last errors:\n${log}`);
    });
    this.subscriptionIds.set(partnerId, id);
    return id;
  }

  /** The Temporal server's resident memory (MiB), CPU seconds so far, and its SQLite files' size (MiB). */
  serverResources(): { rssMb: number; cpuSeconds: number; dbMb: number } {
    const server = this.stack.devServer;
    const pid = server?.pid;
    if (!server || !pid) return { rssMb: 0, cpuSeconds: 0, dbMb: 0 };
    const size = (file: string) => (existsSync(file) ? statSync(file).size : 0);
    return {
      rssMb: rssMb(pid),
      cpuSeconds: cpuSeconds(pid),
      dbMb: Math.round(((size(server.dbFile) + size(`${server.dbFile}-wal`)) / 2 ** 20) * 10) / 10,
    };
  }

  async stop(): Promise<void> {
    await this.stack.stop();
    rmSync(this.certsDir, { recursive: true, force: true });
  }
}
