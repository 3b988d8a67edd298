import { execFileSync, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { holdsInClear } from '../../harness/cluster';
import { isAlive, portInUse, spawnEntry } from '../../harness/processes';
import { freePort } from '../../harness/processes';
import { Receiver } from '../../harness/receiver';
import { eventually } from '../../harness/temporal';
import { HARNESS_TOKEN } from '../../harness/token';


/**
 * `npm run dev` as a user runs it (scripts/dev/dev.ts, the command behind it): a key ring made at
 * first start in DATA_DIR, a codec server on loopback, the dev server's Web UI pointed at it, data
 * encrypted in the SQLite file; and nothing of it left running, whatever kills it.
 */
describe('npm run dev', () => {
  let dataDir: string;
  let env: Record<string, string>;
  let command: ChildProcess | undefined;
  let output = '';
  let receiver: Receiver;

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'webhooks-dev-command-'));
    receiver = await Receiver.start();
    env = {
      PATH: process.env.PATH ?? '',
      HOME: dataDir,
      DATA_DIR: dataDir,
      TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}`,
      TEMPORAL_UI_PORT: String(await freePort()),
      API_PORT: String(await freePort()),
      API_TOKEN: HARNESS_TOKEN,
      WORKER_METRICS_PORT: String(await freePort()),
      CODEC_PORT: String(await freePort()),
      WEBHOOK_ALLOW_HTTP: 'true',
      WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
    };
    await start();
  }, 120_000);

  /** Starts the command; `output` is what the newest one printed (an older one may still be running). */
  const run = () => {
    const child = spawnEntry('scripts/dev/dev.ts', [], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    command = child;
    output = '';
    let printed = '';
    const append = (chunk: Buffer) => {
      printed += chunk.toString();
      if (command === child) output = printed;
    };
    child.stdout!.on('data', append);
    child.stderr!.on('data', append);
    return child;
  };
  const start = async () => {
    run();
    await eventually(() => (output.includes('Webhooks is running.') ? true : command!.exitCode !== null ? Promise.reject(new Error(output)) : undefined), 90_000, 'the summary');
  };
  const exitOf = (child: ChildProcess) => new Promise<number | null>((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', (code) => resolve(code))));
  /** The stack's processes as its stack file lists them. */
  const recorded = () => JSON.parse(readFileSync(join(dataDir, 'stack.json'), 'utf8')) as { supervisor: { pid: number }; processes: { name: string; pid: number }[] };
  const alive = isAlive;
  /** The watchdogs watching this data folder's stack. */
  const watchdogs = (): number[] => {
    try {
      return execFileSync('pgrep', ['-f', `scripts/dev/watchdog.ts ${join(dataDir, 'stack.json')}`], { encoding: 'utf8' }).trim().split('\n').map(Number);
    } catch {
      return []; // pgrep exits 1 when nothing matches
    }
  };
  const ports = () => ['TEMPORAL_UI_PORT', 'API_PORT', 'CODEC_PORT', 'WORKER_METRICS_PORT'].map((name) => Number(env[name])).concat(Number(env.TEMPORAL_ADDRESS!.split(':')[1]));

  afterAll(async () => {
    if (command && command.exitCode === null) {
      command.kill('SIGINT');
      await new Promise((resolve) => command!.once('exit', resolve));
    }
    await receiver?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('encrypts with a key it keeps in DATA_DIR, and points the Web UI at a codec server on loopback', async () => {
    const codecUrl = `http://127.0.0.1:${env.CODEC_PORT}`;
    expect(output).toContain(`Codec server  ${codecUrl}`);
    expect(output).toContain(`Payload keys  ${join(dataDir, 'payload-keys')}`);
    expect(readFileSync(join(dataDir, 'payload-keys'), 'utf8')).toMatch(/^dev-[\d-]+:[A-Za-z0-9+/]{43}=$/m);
    const settings = (await (await fetch(`http://127.0.0.1:${env.TEMPORAL_UI_PORT}/api/v1/settings`)).json()) as { Codec: { Endpoint: string } };
    expect(settings.Codec.Endpoint).toBe(codecUrl);

    const marker = `dev-marker-${Date.now()}`;
    const call = (path: string, body: unknown) =>
      fetch(`http://127.0.0.1:${env.API_PORT}${path}`, { method: 'POST', headers: { authorization: `Bearer ${HARNESS_TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    expect((await call('/v1/partners/dev/subscriptions', { url: receiver.url(`/dev?k=${marker}`), eventTypes: ['t'], batching: { maxEvents: 1 } })).status).toBe(201);
    expect((await call('/v1/partners/dev/events', { type: 't', data: { note: marker } })).status).toBe(202);
    const delivered = await eventually(() => receiver.requests.find((r) => r.path.startsWith('/dev')), 30_000, 'the delivery');
    expect(delivered.body).toContain(marker);
    // The SQLite file and its write-ahead log (where recent writes sit): ciphertext only.
    const sqlite = join(dataDir, 'temporal.sqlite');
    const atRest = Buffer.concat([sqlite, `${sqlite}-wal`].filter((file) => existsSync(file)).map((file) => readFileSync(file)));
    expect(atRest.length).toBeGreaterThan(0);
    expect(holdsInClear(atRest, marker)).toBe(false);
  });

  it('refuses a second start on the same data folder while the first runs, in one line', async () => {
    const first = command!;
    try {
      const second = run();
      expect(await exitOf(second)).toBe(2);
      expect(output.trim()).toBe(`npm run dev is already running on ${dataDir} (pid ${first.pid}): stop it first (Ctrl-C in its terminal, or kill ${first.pid}), or set DATA_DIR to another folder`);
    } finally {
      command = first;
    }
  });

  it('leaves nothing running when the supervisor is killed with SIGKILL, and starts again', async () => {
    const { processes } = recorded();
    expect(processes.map((p) => p.name)).toEqual(['temporal', 'worker', 'api', 'codec']);
    command!.kill('SIGKILL');
    await exitOf(command!);
    // The watchdog stops them, then removes the stack file.
    await eventually(() => (processes.every((p) => !alive(p.pid)) && !existsSync(join(dataDir, 'stack.json')) ? true : undefined), 30_000, 'the orphans to go');
    for (const port of ports()) expect(await portInUse(port), `port ${port}`).toBe(false);
    await start();
    expect(output).toContain(`API           http://127.0.0.1:${env.API_PORT}`);
  }, 120_000);

  it('stops what a crashed run left (its watchdog killed too) before starting', async () => {
    const { supervisor, processes } = recorded();
    // The OOM killer takes the watchdog and then the supervisor: their children are orphans now.
    const [watchdog] = watchdogs();
    process.kill(watchdog!, 'SIGKILL');
    process.kill(supervisor.pid, 'SIGKILL');
    await exitOf(command!);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(processes.filter((p) => alive(p.pid)).map((p) => p.name)).toEqual(['temporal', 'worker', 'api', 'codec']);
    await start();
    expect(output).toContain(`Stopping what a crashed run left in ${dataDir}: temporal (pid ${processes[0]!.pid})`);
    for (const p of processes) expect(alive(p.pid), p.name).toBe(false);
  }, 120_000);

  it('stops the codec server with everything else on Ctrl-C, and then nothing of it is left', async () => {
    const { processes } = recorded();
    command!.kill('SIGINT');
    expect(await exitOf(command!)).toBe(0);
    await expect(fetch(`http://127.0.0.1:${env.CODEC_PORT}/healthz`)).rejects.toThrow();
    for (const p of processes) expect(alive(p.pid), p.name).toBe(false);
    expect(existsSync(join(dataDir, 'stack.json'))).toBe(false);
    // Its watchdog too: a clean stop waits for it.
    expect(watchdogs()).toEqual([]);
  });

  it('names a port that another program holds, and the variable that moves it', async () => {
    const squatter = createServer().listen(Number(env.API_PORT), '127.0.0.1');
    await new Promise((resolve) => squatter.once('listening', resolve));
    try {
      expect(await exitOf(run())).toBe(2);
      expect(output.trim()).toBe(`port ${env.API_PORT} is in use by another program: stop it, or set API_PORT to move ours`);
    } finally {
      squatter.close();
    }
  });
});
