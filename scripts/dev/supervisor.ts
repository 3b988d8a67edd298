/**
 * The process tree behind `npm run dev` and `npm run cluster`: starts each process in its own
 * process group (so Ctrl-C reaches only the supervisor), prefixes its output with its name, and
 * stops everything in tiers, highest first (the API and the worker before Temporal, Temporal before
 * its database), when asked or when any process exits on its own.
 *
 * Nothing outlives it: every process group it starts is listed in DATA_DIR/stack.json, and a
 * watchdog (scripts/dev/watchdog.ts) stops them if the supervisor dies without doing so (SIGKILL, the
 * OOM killer). A start that finds a crashed run's processes in the same data folder stops them
 * first; one that finds a port taken by anything else says which, and which variable moves it.
 */
import { randomBytes } from 'node:crypto';
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { newKeyEntry } from '../../codec/key-ring';
import type { Config } from '../../platform/config';
import { cmdlineOf, portInUse, sleep, spawnEntry } from '../../harness/processes';
import { readStack, removeStack, stackFileIn, stillRunning, stopRecorded, writeStack, type StackRecord } from './stack-file';

/** A port the stack will listen on, and the variable that moves it (for the message when it is taken). */
export interface StackPort {
  host: string;
  port: number;
  variable: string;
}

interface Supervised {
  name: string;
  tier: number;
  process: ChildProcess;
}

export class Supervisor {
  private readonly children: Supervised[] = [];
  private stopping = false;
  private record: StackRecord | undefined;
  private stackFile: string | undefined;
  private watchdog: ChildProcess | undefined;

  constructor(private readonly cwd: string) {
    process.on('SIGINT', () => void this.shutdown(0));
    process.on('SIGTERM', () => void this.shutdown(0));
    // Should the supervisor die some other way, its detached children must not outlive it.
    process.on('exit', () => {
      for (const { process: child } of this.children) if (running(child)) child.kill('SIGKILL');
    });
    // A closed terminal or pipe must not stop the shutdown half-way.
    process.stdout.on('error', () => {});
    process.stderr.on('error', () => {});
  }

  get isStopping(): boolean {
    return this.stopping;
  }

  /**
   * Makes `dataDir` this run's: refuses (exit 2) while another run of ours uses it, stops what a
   * crashed run left there, refuses (exit 2) a port that something else holds, then records this
   * run and starts its watchdog. Call before starting anything.
   */
  async claim(command: StackRecord['command'], dataDir: string, ports: StackPort[]): Promise<void> {
    mkdirSync(dataDir, { recursive: true });
    const file = stackFileIn(dataDir);
    const previous = readStack(file);
    if (previous && stillRunning(previous.supervisor, { wholeCommandLine: true })) {
      this.refuse(`npm run ${previous.command} is already running on ${dataDir} (pid ${previous.supervisor.pid}): stop it first (Ctrl-C in its terminal, or kill ${previous.supervisor.pid}), or set DATA_DIR to another folder`);
    }
    const left = previous?.processes.filter((p) => stillRunning(p)) ?? [];
    if (left.length > 0) {
      console.log(`Stopping what a crashed run left in ${dataDir}: ${left.map((p) => `${p.name} (pid ${p.pid})`).join(', ')}`);
      await stopRecorded([...left].reverse());
    }
    removeStack(file);
    for (const { host, port, variable } of ports) {
      if (port > 0 && (await portInUse(port, host))) {
        this.refuse(`port ${port} is in use by another program: stop it, or set ${variable} to move ${command === 'cluster' && variable === 'TEMPORAL_ADDRESS' ? 'the cluster (its ports are next to the frontend\'s)' : 'ours'}`);
      }
    }
    this.stackFile = file;
    this.record = { command, supervisor: { pid: process.pid, cmdline: cmdlineOf(process.pid) ?? '' }, processes: [] };
    writeStack(file, this.record);
    const watchdog = spawnEntry('scripts/dev/watchdog.ts', [file, String(process.pid)], {
      detached: true,
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    // The supervisor's end of the pipe closes only when it exits: that is the watchdog's signal.
    watchdog.unref();
    (watchdog.stdin as unknown as { unref?: () => void } | null)?.unref?.();
    this.watchdog = watchdog;
  }

  /** After a clean stop: closes the watchdog's pipe (nothing is left for it to do) and waits for it to exit, so it does not outlive us. */
  private async releaseWatchdog(): Promise<void> {
    const watchdog = this.watchdog;
    if (!watchdog || watchdog.exitCode !== null || watchdog.signalCode !== null) return;
    const exited = new Promise((resolve) => watchdog.once('exit', resolve));
    watchdog.stdin?.end();
    await Promise.race([exited, sleep(2_000)]);
  }

  private refuse(message: string): never {
    console.error(`${message}`);
    process.exit(2);
  }

  /** Starts a process in `tier` (stopped after every higher tier); any exit not asked for stops everything. */
  start(name: string, command: string, args: string[], tier: number, options: SpawnOptions = {}): ChildProcess {
    const child = spawn(command, args, { cwd: this.cwd, env: process.env, ...options, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    for (const stream of [child.stdout, child.stderr]) {
      let rest = '';
      stream?.on('data', (chunk: Buffer) => {
        const lines = (rest + chunk.toString()).split('\n');
        rest = lines.pop() ?? '';
        for (const line of lines) if (line.trim()) console.log(`[${name}] ${line}`);
      });
    }
    child.on('exit', (code, signal) => {
      if (this.stopping) return;
      console.error(`[${name}] exited unexpectedly (${signal ?? `code ${code}`}); stopping everything`);
      void this.shutdown(1);
    });
    this.children.push({ name, tier, process: child });
    if (this.record && this.stackFile && child.pid) {
      // What it will show once it has exec'd (right after spawn, /proc may still show ours).
      this.record.processes.push({ name, pid: child.pid, cmdline: [command, ...args].join('\0') + '\0' });
      writeStack(this.stackFile, this.record);
    }
    return child;
  }

  /** Polls `probe` until it answers true; gives up (stopping everything) after `timeoutMs`. */
  async waitFor(what: string, probe: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await probe().catch(() => false))) {
      if (this.stopping) return;
      if (Date.now() > deadline) {
        console.error(`${what} did not come up within ${timeoutMs / 1000} s`);
        await this.shutdown(1);
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  /** Stops every tier, highest first, each process with SIGTERM (SIGKILL after 15 s), then exits. */
  async shutdown(exitCode: number, message = '\nStopping the API and the worker, then Temporal ...'): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    console.log(message);
    const tiers = [...new Set(this.children.map((child) => child.tier))].sort((a, b) => b - a);
    for (const tier of tiers) {
      await Promise.all(this.children.filter((child) => child.tier === tier).map((child) => stop(child)));
    }
    if (this.stackFile) removeStack(this.stackFile);
    await this.releaseWatchdog();
    console.log('Stopped.');
    process.exit(exitCode);
  }
}

function running(child: ChildProcess): boolean {
  return child.exitCode === null && child.signalCode === null;
}

async function stop({ name, process: child }: Supervised): Promise<void> {
  if (!running(child)) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => {
    console.error(`[${name}] did not stop in 15 s; killing it`);
    child.kill('SIGKILL');
  }, 15_000);
  await exited;
  clearTimeout(timer);
}

/**
 * The keys of a development stack. Payload encryption: the ring in PAYLOAD_KEYS or
 * PAYLOAD_KEYS_FILE when set, else one made at first start in `dataDir` and kept there with the
 * data it encrypts (losing it loses the payloads). Signatures: WEBHOOK_SIGNING_KEY(_FILE) when set,
 * else a key made at first start in `dataDir` (losing it changes every subscription's secret).
 * Answers the environment our processes need, and where the payload keys are.
 */
export function stackPayloadKeys(config: Config, dataDir: string): { env: Record<string, string>; source: string } {
  mkdirSync(dataDir, { recursive: true });
  const env: Record<string, string> = {};
  if (!config.signing.key) {
    const signingFile = join(dataDir, 'signing-key');
    if (!existsSync(signingFile)) writeFileSync(signingFile, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
    env.WEBHOOK_SIGNING_KEY_FILE = signingFile;
  }
  if (config.encryption.keyRing.current) return { env, source: config.encryption.keyRing.source };
  const file = join(dataDir, 'payload-keys');
  if (!existsSync(file)) {
    const entry = newKeyEntry(`dev-${new Date().toISOString().slice(0, 10)}`);
    writeFileSync(file, `# Payload key ring (id:base64), newest first: the first encrypts, all decrypt.\n${entry}\n`, { mode: 0o600 });
  }
  return { env: { ...env, PAYLOAD_KEYS_FILE: file }, source: file };
}

/**
 * The codec server for a development stack's Web UI: on loopback, asking no credential unless
 * CODEC_AUTH says otherwise, open to the UI's origins. Answers its URL, the UI's codec endpoint.
 */
export function codecServerEnv(config: Config, uiOrigins: string[]): { env: Record<string, string>; url: string } {
  const { host, port } = config.codecServer;
  return {
    env: {
      CODEC_AUTH: process.env.CODEC_AUTH ?? 'none',
      CODEC_CORS_ORIGINS: process.env.CODEC_CORS_ORIGINS ?? uiOrigins.join(','),
    },
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
  };
}

/** The worker, the API and the codec server, in a tier above Temporal's (stopped first), then waits for the API and the codec server to answer. */
export async function startApplication(supervisor: Supervisor, config: Config, token: string, env: Record<string, string>, tier: number, codec: { env: Record<string, string>; url: string }): Promise<void> {
  const tsx = ['--import', 'tsx'];
  // The developer's one worker is the whole fleet: it makes its version current (decision 0011).
  const versioning = { WORKER_SET_CURRENT: process.env.WORKER_SET_CURRENT ?? 'always' };
  supervisor.start('worker', process.execPath, [...tsx, 'worker/main.ts'], tier, { env: { ...process.env, ...env, ...versioning } });
  supervisor.start('api', process.execPath, [...tsx, 'api/main.ts'], tier, { env: { ...process.env, ...env, API_TOKEN: token } });
  supervisor.start('codec', process.execPath, [...tsx, 'codec/main.ts'], tier, { env: { ...process.env, ...env, ...codec.env } });
  await supervisor.waitFor('the API', async () => (await fetch(`${apiUrlOf(config)}/healthz`)).ok);
  await supervisor.waitFor('the codec server', async () => (await fetch(`${codec.url}/healthz`)).ok);
}

/** The ports of ours every stack listens on: the API, the codec server and the worker's probes (the SDK's exporter takes a free loopback port of its own). */
export function applicationPorts(config: Config): StackPort[] {
  const metrics = config.worker.metricsPort;
  return [
    { host: config.api.host, port: config.api.port, variable: 'API_PORT' },
    { host: config.codecServer.host, port: config.codecServer.port, variable: 'CODEC_PORT' },
    ...(metrics ? [{ host: '0.0.0.0', port: metrics, variable: 'WORKER_METRICS_PORT' }] : []),
  ];
}

export function apiUrlOf(config: Config): string {
  return `http://${config.api.host}:${config.api.port}`;
}

export function splitHostPort(address: string): [string, string] {
  const at = address.lastIndexOf(':');
  return [address.slice(0, at).replace(/^\[|\]$/g, ''), address.slice(at + 1)];
}

/** The lines both commands print once everything is up. */
export function printSummary({ apiUrl, uiUrl, temporal, token, tokenFromEnv, data, codecUrl, payloadKeys }: {
  apiUrl: string;
  uiUrl: string;
  temporal: string;
  token: string;
  tokenFromEnv: boolean;
  data: string;
  codecUrl: string;
  payloadKeys: string;
}): void {
  console.log(`
  Webhooks is running.
    API           ${apiUrl}
    Temporal UI   ${uiUrl} (payloads decoded by the codec server)
    Codec server  ${codecUrl}
    Temporal      ${temporal}
    API token     ${token}${tokenFromEnv ? ' (from API_TOKEN)' : ' (made for this run; set API_TOKEN to choose one)'}
    Data          ${data}
    Payload keys  ${payloadKeys} (event data, bodies and memos are encrypted in Temporal)

  Try:  curl -H "Authorization: Bearer ${token}" ${apiUrl}/v1/partners/acme/subscriptions
  Depo: curl -X POST -H "Authorization: Bearer ${token}" ${apiUrl}/v1/partners/acme/portal-links
        (answers a sign-in link for partner acme's pages, good for 15 minutes)
  Ctrl-C stops everything.
`);
}

