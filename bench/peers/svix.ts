/**
 * Svix's open-source webhook server as a peer in the benchmark (`npm run bench -- --peer=svix`):
 * built at a pinned commit by build-svix.sh into ~/.cache/webhooks/peers/svix (outside the tree),
 * run with a PostgreSQL and a Redis of its own, both from Debian's packages, in a scratch folder
 * that `stop()` removes. Its settings are its documented defaults (config.default.toml at the
 * pinned commit) except where a benchmark on one machine needs otherwise; each is said below.
 */
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chownSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort, root, sleep } from '../../harness/processes';
import { idOf, postgresBinDir, waitUntil } from '../../scripts/dev/temporal-cluster';
import { LoadReceiver } from '../../harness/receiver';
import { forEachConcurrently, liveStacks } from '../../harness/stack';

/** The commit build-svix.sh builds (svix-server 1.100.0). */
export const SVIX_COMMIT = '4fc0cfb8b426c87ef7e2b937e7d896a71d456a47';

/** The settings the peer runs with, recorded beside its results. */
export const SVIX_SETTINGS = {
  queue: 'redis (SVIX_QUEUE_TYPE=redis, the default), Redis with appendonly yes / appendfsync everysec (its README asks for persistence)',
  cache: 'memory (the default)',
  database: 'PostgreSQL 15 from Debian, its defaults (fsync on, synchronous_commit on), max_connections 300',
  workers: 'API and worker in one process (the default), worker_max_tasks 500 (the default)',
  retrySchedule: 'SVIX_RETRY_SCHEDULE=[1,1,1,1,1,1,1]: 8 attempts a second apart (its default is 5 s, 5 min, 30 min, 2 h, 5 h, 10 h, 10 h; the bench compresses waits, and Svix counts them in whole seconds)',
  loopback: 'SVIX_WHITELIST_SUBNETS=[127.0.0.1/32], so that it may deliver to the receiver on this machine',
  logs: 'its default level (info), written to /dev/null',
};

/** A running Svix: the same shape the benchmark's step runner takes from a stack of ours. */
export interface SvixStack {
  apiUrl: string;
  token: string;
  receiver: LoadReceiver;
  pids: { svix: number[]; postgres: number[]; redis: number[] };
  backlog: () => number;
  /** What the load generator needs to post to it. */
  loadEnv: Record<string, string>;
  /** `count` applications, each with one endpoint at the receiver; their ids. */
  createApps(count: number): Promise<string[]>;
  stop(): Promise<void>;
}

/**
 * Builds svix-server if needed (build-svix.sh; about 20 minutes the first time) and returns its
 * path. Installs Debian's Redis first where it is missing (as root), or stops saying how.
 */
export function buildSvix(): string {
  if (spawnSync('sh', ['-c', 'command -v redis-server && command -v redis-cli'], { stdio: 'ignore' }).status !== 0) {
    const installed = spawnSync('bash', [join(root, 'scripts/install/apt-install.sh'), 'redis-server', "the Svix peer's queue"], { stdio: 'inherit' });
    if (installed.status !== 0) throw new Error('--peer=svix needs Redis: apt-get install redis-server');
  }
  return execFileSync('bash', [join(root, 'bench/peers/build-svix.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
}

export async function startSvixStack(binary: string): Promise<SvixStack> {
  const dir = mkdtempSync(join(tmpdir(), 'webhooks-peer-svix-'));
  const children: ChildProcess[] = [];
  const [pgPort, redisPort, apiPort] = [await freePort(), await freePort(), await freePort()];
  const stop = async () => {
    for (const child of children.reverse()) await stopChild(child);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const postgres = await startPostgres(join(dir, 'postgres'), pgPort, children);
    const redis = spawn('redis-server', ['--port', String(redisPort), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--appendonly', 'yes', '--appendfsync', 'everysec'], { stdio: 'ignore' });
    children.push(redis);
    await waitUntil('Redis', 60_000, () => execFileSync('redis-cli', ['-p', String(redisPort), 'ping'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).includes('PONG'));

    const env = {
      PATH: process.env.PATH ?? '',
      SVIX_JWT_SECRET: randomBytes(24).toString('base64url'),
      SVIX_DB_DSN: `postgresql://svix@127.0.0.1:${pgPort}/svix`,
      SVIX_REDIS_DSN: `redis://127.0.0.1:${redisPort}`,
      SVIX_QUEUE_TYPE: 'redis',
      SVIX_LISTEN_ADDRESS: `127.0.0.1:${apiPort}`,
      SVIX_WHITELIST_SUBNETS: '[127.0.0.1/32]',
      SVIX_RETRY_SCHEDULE: '[1,1,1,1,1,1,1]',
    };
    execFileSync(binary, ['migrate'], { env, cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
    const token = /Token \(Bearer\): (\S+)/.exec(execFileSync(binary, ['jwt', 'generate'], { env, cwd: dir, encoding: 'utf8' }))?.[1];
    if (!token) throw new Error('svix-server jwt generate printed no token');
    const server = spawn(binary, [], { env, cwd: dir, stdio: 'ignore' });
    children.push(server);
    const apiUrl = `http://127.0.0.1:${apiPort}`;
    await waitUntil('svix-server', 60_000, async () => (await fetch(`${apiUrl}/api/v1/health/`).catch(() => undefined))?.ok === true);

    const receiver = await LoadReceiver.start();
    const call = async (path: string, body: unknown) => {
      const response = await fetch(`${apiUrl}${path}`, { method: 'POST', headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
      if (response.status !== 201) throw new Error(`svix ${path}: ${response.status} ${await response.text()}`);
      return (await response.json()) as { id: string };
    };
    let apps = 0;
    const stack: SvixStack = {
      apiUrl,
      token,
      receiver,
      pids: { svix: [server.pid!], postgres: [postgres.pid!], redis: [redis.pid!] },
      backlog: () => 0,
      loadEnv: { TARGET: 'svix', API_TOKEN: token },
      async createApps(count) {
        const ids: string[] = [];
        await forEachConcurrently(Array.from({ length: count }, () => `bench-${apps++}`), async (name) => {
          const app = await call('/api/v1/app/', { name });
          await call(`/api/v1/app/${app.id}/endpoint/`, { url: `http://127.0.0.1:${receiver.port}/svix/${app.id}` });
          ids.push(app.id);
        });
        return ids;
      },
      async stop() {
        await receiver.close();
        await stop();
        liveStacks.delete(stack);
      },
    };
    liveStacks.add(stack);
    return stack;
  } catch (err) {
    await stop();
    throw err;
  }
}

/** A PostgreSQL of the peer's own in `dataDir`: run as Debian's postgres user (it refuses root), trust on loopback. */
async function startPostgres(dataDir: string, port: number, children: ChildProcess[]): Promise<ChildProcess> {
  const bin = postgresBinDir();
  const asPostgres: { uid?: number; gid?: number } = process.getuid?.() === 0 ? { uid: idOf('-u'), gid: idOf('-g') } : {};
  mkdirSync(dataDir, { recursive: true });
  if (asPostgres.uid !== undefined && asPostgres.gid !== undefined) {
    chownSync(join(dataDir, '..'), asPostgres.uid, asPostgres.gid);
    chownSync(dataDir, asPostgres.uid, asPostgres.gid);
  }
  execFileSync(join(bin, 'initdb'), ['-D', dataDir, '-U', 'svix', '--auth=trust', '-E', 'UTF8', '--locale=C.UTF-8'], { ...asPostgres, stdio: ['ignore', 'ignore', 'pipe'] });
  const postgres = spawn(join(bin, 'postgres'), ['-D', dataDir, '-p', String(port), '-c', 'listen_addresses=127.0.0.1', '-c', 'unix_socket_directories=', '-c', 'max_connections=300'], {
    ...asPostgres,
    stdio: 'ignore',
  });
  children.push(postgres);
  await waitUntil('PostgreSQL', 60_000, () => {
    execFileSync(join(bin, 'pg_isready'), ['-q', '-h', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' });
    return true;
  });
  execFileSync(join(bin, 'createdb'), ['-h', '127.0.0.1', '-p', String(port), '-U', 'svix', 'svix'], { stdio: ['ignore', 'ignore', 'pipe'] });
  return postgres;
}

async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  // PostgreSQL's fast shutdown is SIGINT; the others end on SIGTERM.
  child.kill(child.spawnfile.endsWith('/postgres') ? 'SIGINT' : 'SIGTERM');
  await Promise.race([exited, sleep(10_000)]);
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}
