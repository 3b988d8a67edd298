/**
 * The development stack in one process tree: Temporal's dev server (SQLite on disk under .data/,
 * so subscriptions and batches survive a restart), the worker and the API. Ctrl-C or SIGTERM stops
 * the API and the worker first, then the server.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Connection } from '@temporalio/client';
import { loadConfig } from '../domain/config';
import { devServerArgs, temporalCli } from './temporal-dev-server';

const root = fileURLToPath(new URL('..', import.meta.url));
const config = loadConfig();
const token = config.api.token ?? randomBytes(24).toString('base64url');
const [temporalHost = '127.0.0.1', temporalPort = '7233'] = splitHostPort(config.temporal.address);
const dataDir = `${root}.data`;
mkdirSync(dataDir, { recursive: true });

const children: { name: string; process: ChildProcess }[] = [];
let stopping = false;

function start(name: string, command: string, args: string[], env: NodeJS.ProcessEnv = {}): ChildProcess {
  // Own process group: Ctrl-C reaches only this script, which then stops the children in order.
  const child = spawn(command, args, { cwd: root, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const prefix = (line: string) => `[${name}] ${line}`;
  for (const stream of [child.stdout, child.stderr]) {
    let rest = '';
    stream?.on('data', (chunk: Buffer) => {
      const lines = (rest + chunk.toString()).split('\n');
      rest = lines.pop() ?? '';
      for (const line of lines) if (line.trim()) console.log(prefix(line));
    });
  }
  child.on('exit', (code, signal) => {
    if (!stopping) {
      console.error(prefix(`exited unexpectedly (${signal ?? `code ${code}`}); stopping everything`));
      void stopAll(1);
    }
  });
  children.push({ name, process: child });
  return child;
}

async function stop(child: ChildProcess, name: string): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => {
    console.error(`[${name}] did not stop in 15 s; killing it`);
    child.kill('SIGKILL');
  }, 15_000);
  await exited;
  clearTimeout(timer);
}

async function stopAll(exitCode: number): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log('\nStopping the API and the worker, then Temporal ...');
  const [server, ...services] = children;
  await Promise.all(services.map(({ process, name }) => stop(process, name)));
  if (server) await stop(server.process, server.name);
  console.log('Stopped.');
  process.exit(exitCode);
}

process.on('SIGINT', () => void stopAll(0));
process.on('SIGTERM', () => void stopAll(0));
// Should this script die some other way, its detached children must not outlive it.
process.on('exit', () => {
  for (const { process: child } of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
});
// A closed terminal or pipe must not stop the shutdown half-way.
process.stdout.on('error', () => {});
process.stderr.on('error', () => {});

async function waitFor(what: string, probe: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe().catch(() => false))) {
    if (stopping) return;
    if (Date.now() > deadline) {
      console.error(`${what} did not come up within ${timeoutMs / 1000} s`);
      await stopAll(1);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

async function main(): Promise<void> {
  const serverArgs = devServerArgs({
    ip: temporalHost,
    port: Number(temporalPort),
    uiPort: config.temporal.uiPort,
    dbFile: `${dataDir}/temporal.sqlite`,
    namespace: config.temporal.namespace,
  });
  start('temporal', temporalCli, serverArgs);
  await waitFor('Temporal', async () => {
    const connection = await Connection.connect({ address: config.temporal.address, connectTimeout: 1_000 });
    await connection.close();
    return true;
  });

  const tsx = ['--import', 'tsx'];
  start('worker', process.execPath, [...tsx, 'worker/main.ts']);
  start('api', process.execPath, [...tsx, 'api/main.ts'], { API_TOKEN: token });
  const apiUrl = `http://${config.api.host}:${config.api.port}`;
  await waitFor('the API', async () => (await fetch(`${apiUrl}/healthz`)).ok);
  if (stopping) return;

  console.log(`
  Webhooks is running.
    API           ${apiUrl}
    Temporal UI   http://${temporalHost}:${config.temporal.uiPort}
    Temporal      ${config.temporal.address} (namespace ${config.temporal.namespace})
    API token     ${token}${config.api.token ? ' (from API_TOKEN)' : ' (made for this run; set API_TOKEN to choose one)'}
    Data          .data/temporal.sqlite

  Try:  curl -H "Authorization: Bearer ${token}" ${apiUrl}/v1/partners/acme/subscriptions
  Depo: curl -X POST -H "Authorization: Bearer ${token}" ${apiUrl}/v1/partners/acme/portal-links
        (answers a sign-in link for partner acme's pages, good for 15 minutes)
  Ctrl-C stops everything.
`);
}

function splitHostPort(address: string): [string, string] {
  const at = address.lastIndexOf(':');
  return [address.slice(0, at).replace(/^\[|\]$/g, ''), address.slice(at + 1)];
}

main().catch(async (err: unknown) => {
  console.error('dev: failed to start:', err);
  await stopAll(1);
});
