/**
 * A real Temporal cluster on this machine, the way production runs one (decision 0005): PostgreSQL
 * of its own for persistence and visibility, the schema applied by Temporal's SQL tool, the four
 * Temporal services (frontend, history, matching, worker) as separate processes configured by
 * cluster/temporal/server.yaml, the frontend requiring mutual TLS with certificates made at first
 * start, and the Web UI server connected over TLS. `npm run cluster` (scripts/dev/cluster.ts), the
 * cluster tests and the fault scenarios all start it through this one class.
 *
 * The binaries come from scripts/install/install-temporal-cluster.sh; the data folder keeps PostgreSQL's
 * files, the certificates and the database password, so a restart finds everything again.
 */
import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Connection, type ConnectionOptions } from '@temporalio/client';
import { makeCa, makeLeaf } from './certs';
import { setUpNamespace } from '../ops/temporal-setup';

const root = fileURLToPath(new URL('../..', import.meta.url));
const binDir = join(root, '.temporal/cluster/bin');
export const serverConfigFile = join(root, 'cluster/temporal/server.yaml');
export const dynamicConfigFile = join(root, 'cluster/temporal/dynamicconfig.yaml');
export const schemaScript = join(root, 'cluster/setup-schema.sh');
/** The name the frontend's certificate is issued to, and clients check. */
export const FRONTEND_SERVER_NAME = 'temporal-frontend';

export const temporalServices = ['frontend', 'history', 'matching', 'worker'] as const;
export type TemporalService = (typeof temporalServices)[number];
export type ClusterProcess = TemporalService | 'postgres' | 'ui';

export interface ClusterPorts {
  frontend: number;
  frontendHttp: number;
  history: number;
  matching: number;
  worker: number;
  /** Membership (ringpop) ports, one per service. */
  frontendMembership: number;
  historyMembership: number;
  matchingMembership: number;
  workerMembership: number;
  postgres: number;
  /** 0: no Web UI. */
  ui: number;
}

/** Temporal keeps each service's membership port in a PostgreSQL smallint: 32767 at most. */
const MAX_MEMBERSHIP_PORT = 32_767;
const MAX_PORT = 65_535;

/** Why the frontend port cannot host the cluster's ports, in one line naming the variable. */
export class ClusterPortError extends Error {}

/**
 * Temporal's usual ports when the frontend is on 7233, moved along with it otherwise; PostgreSQL
 * on frontend + 200. The membership ports move along too while they stay at most 32767 (Temporal
 * stores them in a PostgreSQL smallint); past that, a frontend on 40000, say, they wrap into
 * 6933–31966, below every other port of the cluster. Throws ClusterPortError, naming the
 * variable, when a port would leave the range a port may have.
 */
export function defaultPorts(frontend: number, ui: number): ClusterPorts {
  const shift = frontend - 7233;
  const membership = membershipBase(shift);
  const ports: ClusterPorts = {
    frontend,
    frontendHttp: 7243 + shift,
    history: 7234 + shift,
    matching: 7235 + shift,
    worker: 7239 + shift,
    frontendMembership: membership,
    historyMembership: membership + 1,
    matchingMembership: membership + 2,
    workerMembership: membership + 6,
    postgres: 7433 + shift,
    ui,
  };
  const serviceHighest = Math.max(ports.frontendHttp, ports.postgres);
  if (frontend < 1024 || serviceHighest > MAX_PORT) {
    throw new ClusterPortError(
      `TEMPORAL_ADDRESS: npm run cluster places Temporal's services and PostgreSQL up to 200 above the frontend's port (${frontend}); give a port from 1024 to ${MAX_PORT - 200}`,
    );
  }
  if (ui !== 0 && (ui < 1024 || ui > MAX_PORT)) throw new ClusterPortError(`TEMPORAL_UI_PORT: ${ui} is not a port from 1024 to ${MAX_PORT}`);
  return ports;
}

/** The frontend's membership port: 6933 moved along with the frontend, wrapped below 32768 when it would pass it. */
function membershipBase(shift: number): number {
  const usual = 6933 + shift;
  if (usual >= 1024 && usual + 6 <= MAX_MEMBERSHIP_PORT) return usual;
  const span = MAX_MEMBERSHIP_PORT - 6 - 6933 - 800;
  return 6933 + (((shift % span) + span) % span);
}

export interface ClusterOptions {
  /** Holds postgres/, certs/ and the database password; kept across restarts. */
  dataDir: string;
  ports: ClusterPorts;
  namespace: string;
  /** Where the Web UI asks to decode payloads (the codec server), if anywhere. */
  codecEndpoint?: string;
  /** Whether the UI's codec requests carry the browser's cookies for the codec server (its sign-in). */
  codecIncludeCredentials?: boolean;
  /** Starts a process; the default pipes its output away. `npm run cluster` passes its supervisor's. */
  spawn?: (name: ClusterProcess, command: string, args: string[], options: SpawnOptions) => ChildProcess;
  /** Progress lines ("applying the schema", …). */
  log?: (line: string) => void;
}

/** The files a client of the cluster presents and trusts. */
export interface ClusterCertificates {
  ca: string;
  clientCert: string;
  clientKey: string;
}

export class TemporalCluster {
  readonly processes = new Map<ClusterProcess, ChildProcess>();
  readonly certs: ClusterCertificates;
  private readonly postgresDir: string;
  private readonly password: string;
  private readonly postgresUser: { uid: number; gid: number } | undefined;
  private readonly pgBin: string;

  private constructor(readonly options: ClusterOptions) {
    mkdirSync(options.dataDir, { recursive: true });
    this.postgresDir = join(options.dataDir, 'postgres');
    this.certs = ensureCertificates(join(options.dataDir, 'certs'));
    this.password = ensureSecret(join(options.dataDir, 'postgres-password'));
    // PostgreSQL refuses to run as root: as root, its processes run as Debian's postgres user.
    this.postgresUser = process.getuid?.() === 0 ? { uid: idOf('-u'), gid: idOf('-g') } : undefined;
    this.pgBin = postgresBinDir();
  }

  /** Starts everything (PostgreSQL, schema, the four services, the namespace, the UI) and waits until the frontend serves. */
  static async start(options: ClusterOptions): Promise<TemporalCluster> {
    for (const binary of ['temporal-server', 'temporal-sql-tool', 'temporal-ui-server']) {
      if (!existsSync(join(binDir, binary))) throw new Error(`${join(binDir, binary)} is missing: run scripts/install/install-temporal-cluster.sh`);
    }
    const cluster = new TemporalCluster(options);
    try {
      await cluster.startPostgres();
      cluster.applySchema();
      // The namespace and its search attributes are set up with history and the frontend only:
      // each service caches the search attributes for a minute from its first use, and the worker
      // service's system workflows (through matching) would be that first use.
      await cluster.startServices(['history', 'frontend']);
      await cluster.waitForFrontend();
      const connection = await Connection.connect(cluster.connectionOptions());
      try {
        const added = await setUpNamespace(connection, options.namespace, 120_000);
        if (added.length > 0) cluster.log(`registered the search attributes of namespace ${options.namespace}: ${added.join(', ')}`);
      } finally {
        await connection.close();
      }
      await cluster.startServices(['matching', 'worker']);
      if (options.ports.ui) await cluster.startUi();
      return cluster;
    } catch (err) {
      // Whatever had started goes with the failed start; what the processes said goes with the error.
      const output = cluster.lastOutput();
      await cluster.stop();
      if (output && err instanceof Error) err.message += `\n${output}`;
      throw err;
    }
  }

  get address(): string {
    return `127.0.0.1:${this.options.ports.frontend}`;
  }

  get uiUrl(): string | undefined {
    return this.options.ports.ui ? `http://127.0.0.1:${this.options.ports.ui}` : undefined;
  }

  /** The environment a worker, an API or the Temporal CLI needs to reach this cluster (Temporal's own variable names). */
  clientEnv(): Record<string, string> {
    return {
      TEMPORAL_ADDRESS: this.address,
      TEMPORAL_NAMESPACE: this.options.namespace,
      TEMPORAL_TLS_CLIENT_CERT_PATH: this.certs.clientCert,
      TEMPORAL_TLS_CLIENT_KEY_PATH: this.certs.clientKey,
      TEMPORAL_TLS_SERVER_CA_CERT_PATH: this.certs.ca,
      TEMPORAL_TLS_SERVER_NAME: FRONTEND_SERVER_NAME,
    };
  }

  /** For `Connection.connect`: mutual TLS with the client certificate. */
  connectionOptions(): ConnectionOptions {
    return {
      address: this.address,
      tls: {
        serverNameOverride: FRONTEND_SERVER_NAME,
        serverRootCACertificate: readFileSync(this.certs.ca),
        clientCertPair: { crt: readFileSync(this.certs.clientCert), key: readFileSync(this.certs.clientKey) },
      },
    };
  }

  /** Starts one process again (after `kill`), and waits for it where that is observable. */
  async restart(name: ClusterProcess): Promise<void> {
    if (name === 'postgres') await this.startPostgres();
    else if (name === 'ui') await this.startUi();
    else {
      this.startService(name);
      if (name === 'frontend') await this.waitForFrontend();
    }
  }

  /**
   * A crash: SIGKILL, so the process gets no chance to flush or hand anything over. PostgreSQL gets
   * SIGQUIT instead (its immediate shutdown: no checkpoint, recovery from the WAL at the next start),
   * since a SIGKILL of its postmaster would leave its backends running.
   */
  async kill(name: ClusterProcess): Promise<void> {
    await stopProcess(this.processes.get(name), name === 'postgres' ? 'SIGQUIT' : 'SIGKILL');
    this.processes.delete(name);
  }

  /** Stops the UI and the services, then PostgreSQL (a fast shutdown: it checkpoints and exits). */
  async stop(): Promise<void> {
    await stopProcess(this.processes.get('ui'), 'SIGTERM');
    await Promise.all(temporalServices.map((service) => stopProcess(this.processes.get(service), 'SIGTERM')));
    await stopProcess(this.processes.get('postgres'), 'SIGINT');
    this.processes.clear();
  }

  /** Kills whatever is still running at once: for a test runner or supervisor that is dying. */
  readonly killAll = (): void => {
    for (const child of this.processes.values()) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };

  private log(line: string): void {
    this.options.log?.(line);
  }

  private run(name: ClusterProcess, command: string, args: string[], options: SpawnOptions): ChildProcess {
    const child = this.options.spawn ? this.options.spawn(name, command, args, options) : this.spawnQuietly(name, command, args, options);
    this.processes.set(name, child);
    return child;
  }

  /** The last lines each process printed, for the error of a start that failed. */
  private readonly tails = new Map<ClusterProcess, string[]>();

  private spawnQuietly(name: ClusterProcess, command: string, args: string[], options: SpawnOptions): ChildProcess {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    const tail: string[] = [];
    this.tails.set(name, tail);
    for (const stream of [child.stdout, child.stderr]) {
      stream?.on('data', (chunk: Buffer) => {
        tail.push(...chunk.toString().split('\n').filter(Boolean).map((line) => line.slice(0, 400)));
        tail.splice(0, Math.max(0, tail.length - 8));
      });
    }
    return child;
  }

  private lastOutput(): string {
    return [...this.tails].map(([name, lines]) => `--- ${name}${this.processes.get(name)?.exitCode != null ? ` (exited ${this.processes.get(name)?.exitCode})` : ''}\n${lines.join('\n')}`).join('\n');
  }

  private async startPostgres(): Promise<void> {
    const { postgres: port } = this.options.ports;
    if (!existsSync(join(this.postgresDir, 'PG_VERSION'))) {
      this.log(`creating a PostgreSQL instance in ${this.postgresDir}`);
      rmSync(this.postgresDir, { recursive: true, force: true });
      mkdirSync(this.postgresDir, { recursive: true, mode: 0o700 });
      const pwfile = join(this.options.dataDir, '.initdb-password');
      writeFileSync(pwfile, this.password, { mode: 0o600 });
      this.giveToPostgres(this.postgresDir, pwfile);
      try {
        execFileSync(join(this.pgBin, 'initdb'), ['-D', this.postgresDir, '-U', 'temporal', `--pwfile=${pwfile}`, '--auth-host=scram-sha-256', '--auth-local=peer', '-E', 'UTF8', '--locale=C.UTF-8'], {
          ...this.asPostgres(),
          stdio: ['ignore', 'ignore', 'pipe'],
        });
      } finally {
        rmSync(pwfile, { force: true });
      }
    }
    // Loopback only, no Unix socket (its path would depend on where the data folder is).
    this.run('postgres', join(this.pgBin, 'postgres'), ['-D', this.postgresDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=300',
      // The services race to create Temporal's system namespace at first start; the losers' duplicate-key errors are noise.
      '-c', 'log_min_messages=fatal'], {
      ...this.asPostgres(),
    });
    await waitUntil('PostgreSQL', 60_000, () => {
      execFileSync(join(this.pgBin, 'pg_isready'), ['-q', '-h', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
      return true;
    });
  }

  /** Creates the two databases and brings their schemas to the server's version: cluster/setup-schema.sh, as in Compose. */
  private applySchema(): void {
    execFileSync('sh', [schemaScript], {
      env: {
        PATH: process.env.PATH ?? '',
        TEMPORAL_SQL_TOOL: join(binDir, 'temporal-sql-tool'),
        SQL_HOST: '127.0.0.1',
        SQL_PORT: String(this.options.ports.postgres),
        SQL_USER: 'temporal',
        SQL_PASSWORD: this.password,
      },
      stdio: ['ignore', 'ignore', 'pipe'],
    });
  }

  /**
   * Some of the services. On a new database, history goes first and the others wait until it has
   * written the cluster's metadata: started together, they race to insert it, and the losers exit
   * with a duplicate-key error (Compose restarts them; here nothing would).
   */
  private async startServices(services: TemporalService[]): Promise<void> {
    if (services.includes('history')) {
      this.startService('history');
      if (!this.clusterMetadataSaved()) await waitUntil('the cluster metadata', 60_000, () => this.clusterMetadataSaved());
    }
    for (const service of services) if (service !== 'history') this.startService(service);
  }

  /** The whole `temporal` database as `pg_dump` prints it (binary columns in hex): what is at rest. */
  dumpDatabase(): string {
    return execFileSync(join(this.pgBin, 'pg_dump'), ['-h', '127.0.0.1', '-p', String(this.options.ports.postgres), '-U', 'temporal', '-d', 'temporal', '--data-only'], {
      env: { PATH: process.env.PATH ?? '', PGPASSWORD: this.password },
      encoding: 'utf8',
      maxBuffer: 1024 * 1024 * 1024,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
  }

  /** Transactions PostgreSQL has committed or rolled back in Temporal's two databases since it started. */
  transactionCount(): number {
    const count = execFileSync(
      join(this.pgBin, 'psql'),
      ['-h', '127.0.0.1', '-p', String(this.options.ports.postgres), '-U', 'temporal', '-d', 'temporal', '-tAc', "SELECT sum(xact_commit + xact_rollback) FROM pg_stat_database WHERE datname IN ('temporal', 'temporal_visibility')"],
      { env: { PATH: process.env.PATH ?? '', PGPASSWORD: this.password }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
    );
    return Number(count.trim());
  }

  private clusterMetadataSaved(): boolean {
    const count = execFileSync(
      join(this.pgBin, 'psql'),
      ['-h', '127.0.0.1', '-p', String(this.options.ports.postgres), '-U', 'temporal', '-d', 'temporal', '-tAc', 'SELECT count(*) FROM cluster_metadata_info'],
      { env: { PATH: process.env.PATH ?? '', PGPASSWORD: this.password }, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] },
    );
    return Number(count.trim()) > 0;
  }

  private startService(service: TemporalService): void {
    const { ports } = this.options;
    // The server reads all of these through cluster/temporal/server.yaml, as it does in docker-compose.yml.
    const env: Record<string, string> = {
      PATH: process.env.PATH ?? '',
      // The services' own log level (server.yaml's default: warn).
      ...(process.env.LOG_LEVEL ? { LOG_LEVEL: process.env.LOG_LEVEL } : {}),
      TEMPORAL_SERVER_CONFIG_FILE_PATH: serverConfigFile,
      TEMPORAL_SERVICES: service,
      TEMPORAL_ALLOW_NO_AUTH: 'true',
      DYNAMIC_CONFIG_FILE_PATH: dynamicConfigFile,
      BIND_ON_IP: '127.0.0.1',
      TEMPORAL_BROADCAST_ADDRESS: '127.0.0.1',
      POSTGRES_SEEDS: '127.0.0.1',
      DB_PORT: String(ports.postgres),
      POSTGRES_USER: 'temporal',
      POSTGRES_PWD: this.password,
      FRONTEND_GRPC_PORT: String(ports.frontend),
      FRONTEND_HTTP_PORT: String(ports.frontendHttp),
      FRONTEND_MEMBERSHIP_PORT: String(ports.frontendMembership),
      HISTORY_GRPC_PORT: String(ports.history),
      HISTORY_MEMBERSHIP_PORT: String(ports.historyMembership),
      MATCHING_GRPC_PORT: String(ports.matching),
      MATCHING_MEMBERSHIP_PORT: String(ports.matchingMembership),
      WORKER_GRPC_PORT: String(ports.worker),
      WORKER_MEMBERSHIP_PORT: String(ports.workerMembership),
      TEMPORAL_TLS_FRONTEND_CERT: join(this.options.dataDir, 'certs/frontend.crt'),
      TEMPORAL_TLS_FRONTEND_KEY: join(this.options.dataDir, 'certs/frontend.key'),
      TEMPORAL_TLS_CLIENT_CA_CERT: this.certs.ca,
      TEMPORAL_TLS_SERVER_CA_CERT: this.certs.ca,
      TEMPORAL_TLS_SYSTEM_WORKER_CERT: join(this.options.dataDir, 'certs/system-worker.crt'),
      TEMPORAL_TLS_SYSTEM_WORKER_KEY: join(this.options.dataDir, 'certs/system-worker.key'),
      TEMPORAL_TLS_FRONTEND_SERVER_NAME: FRONTEND_SERVER_NAME,
    };
    this.run(service, join(binDir, 'temporal-server'), ['start'], { cwd: root, env });
  }

  private async waitForFrontend(): Promise<void> {
    await waitUntil('the Temporal frontend', 120_000, async () => {
      const connection = await Connection.connect({ ...this.connectionOptions(), connectTimeout: 1_000 });
      try {
        await connection.workflowService.getSystemInfo({});
        return true;
      } finally {
        await connection.close();
      }
    });
  }

  private async startUi(): Promise<void> {
    const { ui } = this.options.ports;
    const certs = join(this.options.dataDir, 'certs');
    this.run('ui', join(binDir, 'temporal-ui-server'), ['--root', root, '--config', 'cluster/ui', '--env', 'docker', 'start'], {
      cwd: root,
      env: {
        PATH: process.env.PATH ?? '',
        TEMPORAL_ADDRESS: this.address,
        TEMPORAL_UI_PORT: String(ui),
        TEMPORAL_UI_ORIGIN: `http://127.0.0.1:${ui}`,
        TEMPORAL_DEFAULT_NAMESPACE: this.options.namespace,
        // The UI is served over plain HTTP on loopback: its CSRF cookie cannot be Secure.
        TEMPORAL_CSRF_COOKIE_INSECURE: 'true',
        TEMPORAL_TLS_CA: this.certs.ca,
        TEMPORAL_TLS_CERT: join(certs, 'ui.crt'),
        TEMPORAL_TLS_KEY: join(certs, 'ui.key'),
        TEMPORAL_TLS_SERVER_NAME: FRONTEND_SERVER_NAME,
        TEMPORAL_CODEC_ENDPOINT: this.options.codecEndpoint ?? '',
        TEMPORAL_CODEC_INCLUDE_CREDENTIALS: String(this.options.codecIncludeCredentials ?? false),
      },
    });
    await waitUntil('the Temporal Web UI', 60_000, async () => (await fetch(`http://127.0.0.1:${ui}/api/v1/settings`)).ok || undefined);
  }

  private asPostgres(): SpawnOptions {
    return this.postgresUser ? { uid: this.postgresUser.uid, gid: this.postgresUser.gid } : {};
  }

  /** As root, hands the files to the postgres user and lets it reach them through the data folder. */
  private giveToPostgres(...paths: string[]): void {
    if (!this.postgresUser) return;
    const { uid, gid } = this.postgresUser;
    for (const path of paths) chownSync(path, uid, gid);
    // Every folder above must be searchable by the postgres user (mkdtemp makes 0700 folders).
    for (let dir = this.options.dataDir; dir !== '/'; dir = join(dir, '..')) {
      const mode = statSync(dir).mode;
      if ((mode & 0o001) === 0) chmodSync(dir, mode | 0o001);
    }
  }
}

/**
 * The cluster's CA and its certificates, made once (valid two years) and kept in `dir`: ca, frontend
 * (server), client (our worker and API), system-worker and ui (clients), each `.crt` and `.key`.
 */
export function ensureCertificates(dir: string): ClusterCertificates {
  const ca = { cert: join(dir, 'ca.crt'), key: join(dir, 'ca.key') };
  if (!existsSync(ca.cert) || !existsSync(join(dir, 'ui.key'))) {
    rmSync(dir, { recursive: true, force: true });
    const days = 730;
    const made = makeCa(dir, 'ca', days);
    makeLeaf(dir, made, 'frontend', { name: FRONTEND_SERVER_NAME, usage: 'server', dns: ['localhost', 'temporal'], ip: '127.0.0.1', days });
    makeLeaf(dir, made, 'client', { name: 'webhooks', usage: 'client', days });
    makeLeaf(dir, made, 'system-worker', { name: 'temporal-system-worker', usage: 'client', days });
    makeLeaf(dir, made, 'ui', { name: 'temporal-ui', usage: 'client', days });
    // The signing leftovers are not needed again.
    for (const entry of readdirSync(dir)) if (entry.endsWith('.ca')) rmSync(join(dir, entry), { recursive: true, force: true });
  }
  return { ca: ca.cert, clientCert: join(dir, 'client.crt'), clientKey: join(dir, 'client.key') };
}

function ensureSecret(file: string): string {
  if (!existsSync(file)) writeFileSync(file, randomBytes(24).toString('base64url'), { mode: 0o600 });
  return readFileSync(file, 'utf8').trim();
}

export function idOf(flag: '-u' | '-g'): number {
  try {
    return Number(execFileSync('id', [flag, 'postgres'], { encoding: 'utf8' }).trim());
  } catch {
    throw new Error("running as root, PostgreSQL needs the 'postgres' user: install Debian's postgresql package (scripts/install/install-temporal-cluster.sh does)");
  }
}

/** The newest installed PostgreSQL's binaries (also the benchmark's peers': bench/peers/) (Debian keeps them in /usr/lib/postgresql/N/bin). */
export function postgresBinDir(): string {
  const base = '/usr/lib/postgresql';
  const versions = existsSync(base) ? readdirSync(base).filter((v) => existsSync(join(base, v, 'bin/postgres'))) : [];
  const newest = versions.sort((a, b) => Number(b) - Number(a))[0];
  if (!newest) throw new Error('PostgreSQL is not installed: run scripts/install/install-temporal-cluster.sh');
  return join(base, newest, 'bin');
}

async function stopProcess(child: ChildProcess | undefined, signal: NodeJS.Signals): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill(signal);
  const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
  await exited;
  clearTimeout(timer);
}

export async function waitUntil(what: string, timeoutMs: number, probe: () => unknown): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      if (await probe()) return;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) throw new Error(`${what} did not come up within ${timeoutMs / 1000} s${last ? `: ${(last as Error).message ?? last}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
