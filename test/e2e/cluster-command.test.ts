import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createConnection } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultPorts } from '../../scripts/dev/temporal-cluster';
import { portInUse, spawnEntry } from '../../harness/processes';
import { freePort } from '../../harness/processes';
import { Receiver } from '../../harness/receiver';
import { eventually } from '../../harness/temporal';
import { HARNESS_TOKEN } from '../../harness/token';


/**
 * `npm run cluster` as a user runs it (scripts/dev/cluster.ts, the command behind it): it prints the
 * same summary as `npm run dev`, delivers, stops everything on Ctrl-C, and finds its data again
 * at the next start.
 */
describe('npm run cluster', () => {
  let dataDir: string;
  let env: Record<string, string>;
  let ports: ReturnType<typeof defaultPorts>;
  let apiUrl: string;
  let receiver: Receiver;
  let command: ChildProcess | undefined;
  let output = '';

  const start = async () => {
    output = '';
    command = spawnEntry('scripts/dev/cluster.ts', [], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    command.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    command.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await eventually(() => (output.includes('Webhooks is running.') ? true : command!.exitCode !== null ? Promise.reject(new Error(output)) : undefined), 150_000, 'the summary');
  };
  /** Ctrl-C: SIGINT to the command alone (its children run in process groups of their own). */
  const interrupt = async () => {
    const exited = new Promise<number | null>((resolve) => command!.once('exit', (code) => resolve(code)));
    command!.kill('SIGINT');
    const code = await exited;
    command = undefined;
    return code;
  };
  const call = (method: string, path: string, body?: unknown) =>
    fetch(`${apiUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${HARNESS_TOKEN}`, ...(body ? { 'content-type': 'application/json' } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });

  beforeAll(async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'webhooks-cluster-command-'));
    ports = await freeClusterPorts();
    const apiPort = await freePort();
    apiUrl = `http://127.0.0.1:${apiPort}`;
    receiver = await Receiver.start();
    env = {
      PATH: process.env.PATH ?? '',
      HOME: dataDir,
      DATA_DIR: dataDir,
      TEMPORAL_ADDRESS: `127.0.0.1:${ports.frontend}`,
      TEMPORAL_UI_PORT: String(ports.ui),
      API_PORT: String(apiPort),
      API_TOKEN: HARNESS_TOKEN,
      WORKER_METRICS_PORT: String(await freePort()),
      CODEC_PORT: String(await freePort()),
      WEBHOOK_ALLOW_HTTP: 'true',
      WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
    };
  });

  afterAll(async () => {
    if (command) await interrupt();
    // Whatever a failed test left behind must not outlive it.
    for (const line of processesUsing(dataDir)) process.kill(Number(line.split(':')[0]), 'SIGKILL');
    await receiver?.close();
    rmSync(dataDir, { recursive: true, force: true });
  });

  it('starts the whole stack, prints the summary of npm run dev, and delivers', async () => {
    await start();
    for (const line of ['API', 'Temporal UI', 'Temporal', 'API token', 'Data']) expect(output).toMatch(new RegExp(`^    ${line} +\\S`, 'm'));
    expect(output).toContain(`API           ${apiUrl}`);
    expect(output).toContain(`Temporal UI   http://127.0.0.1:${ports.ui}`);
    expect(output).toContain(`API token     ${HARNESS_TOKEN} (from API_TOKEN)`);
    expect((await fetch(`http://127.0.0.1:${ports.ui}/api/v1/namespaces`)).status).toBe(200);
    // Encryption on, with a key made at first start and kept with the cluster's data; the Web UI
    // is pointed at the codec server.
    const codecUrl = `http://127.0.0.1:${env.CODEC_PORT}`;
    expect(output).toContain(`Codec server  ${codecUrl}`);
    expect(output).toContain(`Payload keys  ${join(dataDir, 'cluster', 'payload-keys')}`);
    expect(readFileSync(join(dataDir, 'cluster', 'payload-keys'), 'utf8')).toMatch(/^dev-[\d-]+:[A-Za-z0-9+/]{43}=$/m);
    const settings = (await (await fetch(`http://127.0.0.1:${ports.ui}/api/v1/settings`)).json()) as { Codec: { Endpoint: string } };
    expect(settings.Codec.Endpoint).toBe(codecUrl);
    expect((await fetch(`${codecUrl}/healthz`)).status).toBe(200);

    const created = await call('POST', '/v1/partners/cluster-command/subscriptions', { url: receiver.url('/hook'), eventTypes: ['t.created'], batching: { maxEvents: 1 } });
    expect(created.status).toBe(201);
    expect((await call('POST', '/v1/partners/cluster-command/events', { type: 't.created', data: { n: 1 } })).status).toBe(202);
    const delivered = await eventually(() => receiver.requests.find((request) => request.path === '/hook'), 60_000, 'the delivery');
    expect(JSON.parse(delivered.body)).toMatchObject({ count: 1, events: [{ type: 't.created', data: { n: 1 } }] });
  }, 240_000);

  it('stops every process on Ctrl-C, and the next start finds the subscription again', async () => {
    expect(await interrupt()).toBe(0);
    for (const port of [ports.frontend, ports.history, ports.matching, ports.worker, ports.postgres, ports.ui, Number(env.API_PORT), Number(env.CODEC_PORT)]) {
      expect(await listening(port), `port ${port}`).toBe(false);
    }
    expect(processesUsing(dataDir), 'processes still using the data folder').toEqual([]);

    const keys = readFileSync(join(dataDir, 'cluster', 'payload-keys'), 'utf8');
    await start();
    // The same key ring (nothing re-made), so the encrypted subscription reads back.
    expect(readFileSync(join(dataDir, 'cluster', 'payload-keys'), 'utf8')).toBe(keys);
    const listed = (await (await call('GET', '/v1/partners/cluster-command/subscriptions')).json()) as { subscriptions: { url: string }[] };
    expect(listed.subscriptions).toEqual([expect.objectContaining({ url: receiver.url('/hook') })]);
    expect(await interrupt()).toBe(0);
  }, 240_000);

  it('leaves nothing running when the supervisor is killed with SIGKILL (PostgreSQL included), and starts again', async () => {
    await start();
    const exited = new Promise((resolve) => command!.once('exit', resolve));
    command!.kill('SIGKILL');
    await exited;
    command = undefined;
    // Only the watchdog can stop them now: everything it started had its own process group.
    await eventually(() => (processesUsing(dataDir).length === 0 ? true : undefined), 60_000, 'the orphans to go');
    for (const port of [ports.frontend, ports.history, ports.matching, ports.worker, ports.postgres, ports.ui, Number(env.API_PORT), Number(env.CODEC_PORT)]) {
      expect(await listening(port), `port ${port}`).toBe(false);
    }
    await start();
    expect(await interrupt()).toBe(0);
  }, 240_000);

  it('refuses, in one line naming TEMPORAL_ADDRESS, a frontend port whose neighbours would not be ports, before starting anything', async () => {
    const refused = spawnEntry('scripts/dev/cluster.ts', [], { env: { ...env, TEMPORAL_ADDRESS: '127.0.0.1:65400' }, stdio: ['ignore', 'pipe', 'pipe'] });
    let printed = '';
    refused.stdout!.on('data', (chunk: Buffer) => (printed += chunk.toString()));
    refused.stderr!.on('data', (chunk: Buffer) => (printed += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => refused.once('close', (exitCode) => resolve(exitCode)));
    expect(code).toBe(2);
    expect(printed.trim().split('\n')).toEqual([expect.stringMatching(/^cluster: TEMPORAL_ADDRESS: .*65400/)]);
    expect(processesUsing(dataDir)).toEqual([]);
  });
});

/**
 * A frontend port above 33061, as a new user might pick any free port (40000, say): there the
 * membership ports cannot move along with it (Temporal keeps them in a smallint) and wrap below
 * 32768. Its neighbours (the other services, PostgreSQL, the UI) are free too.
 */
async function freeClusterPorts(): Promise<ReturnType<typeof defaultPorts>> {
  for (;;) {
    const frontend = 40_000 + Math.floor(Math.random() * 10_000);
    const ports = defaultPorts(frontend, frontend + 1000);
    const all = Object.values(ports);
    if ((await Promise.all(all.map((port) => portInUse(port)))).every((inUse) => !inUse)) return ports;
  }
}

function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** Processes whose command line or environment names `dir` (PostgreSQL's -D, the services' config paths). */
function processesUsing(dir: string): string[] {
  const found: string[] = [];
  for (const pid of readdirSync('/proc').filter((entry) => /^\d+$/.test(entry))) {
    try {
      const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      const environ = readFileSync(`/proc/${pid}/environ`, 'utf8');
      if (cmdline.includes(dir) || environ.includes(dir)) found.push(`${pid}: ${cmdline.replace(/\0/g, ' ').slice(0, 120)}`);
    } catch {
      // ended while we looked, or not ours to read
    }
  }
  return found;
}
