import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { holdsInClear } from '../support/cluster';
import { freePort } from '../support/processes';
import { Receiver } from '../support/receiver';
import { eventually } from '../support/temporal';

const root = new URL('../../', import.meta.url).pathname;
const TOKEN = 'dev-command-token-0123456789';

/**
 * `npm run dev` as a user runs it (scripts/dev.ts, the command behind it), for what payload
 * encryption added: a key ring made at first start in DATA_DIR, a codec server on loopback, and
 * the dev server's Web UI pointed at it; data encrypted in the SQLite file.
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
      API_TOKEN: TOKEN,
      WORKER_METRICS_PORT: String(await freePort()),
      CODEC_PORT: String(await freePort()),
      WEBHOOK_ALLOW_HTTP: 'true',
      WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
    };
    command = spawn(process.execPath, ['--import', 'tsx', 'scripts/dev.ts'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
    command.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    command.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    await eventually(() => (output.includes('Webhooks is running.') ? true : command!.exitCode !== null ? Promise.reject(new Error(output)) : undefined), 90_000, 'the summary');
  }, 120_000);

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
      fetch(`http://127.0.0.1:${env.API_PORT}${path}`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
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

  it('stops the codec server with everything else on Ctrl-C', async () => {
    command!.kill('SIGINT');
    const code = await new Promise<number | null>((resolve) => command!.once('exit', resolve));
    expect(code).toBe(0);
    await expect(fetch(`http://127.0.0.1:${env.CODEC_PORT}/healthz`)).rejects.toThrow();
  });
});
