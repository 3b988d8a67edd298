/**
 * The one kit that everything starting our processes shares: the tests, the
 * benchmark (bench/), the fault scenarios (chaos/) and the dev and cluster commands
 * (scripts/dev/supervisor.ts). Ports, entry points, waiting for /healthz, creating a subscription over
 * HTTP, and what /proc says about a process.
 */
import { spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildInfoFile, compiledEntryPoints } from '../scripts/build/entry-points';

/** The repository's root: entry points are given relative to it. */
export const root = fileURLToPath(new URL('..', import.meta.url));

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

// --- Ports -----------------------------------------------------------------------------------


/** Whether something listens on `host`:`port` already (only "address in use" counts). */
export function portInUse(port: number, host = '127.0.0.1'): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'EADDRINUSE'));
    server.listen(port, host, () => server.close(() => resolve(false)));
  });
}

/**
 * A free port for a process of ours to listen on, picked below the kernel's ephemeral range
 * (32768 and up here). Between this check and the process's bind, test files running beside this
 * one open connections and port-0 listeners by the hundred, and the kernel gives those ephemeral
 * ports: a port it picked for us could be handed out again meanwhile; one below its range cannot.
 */
export async function freePort(): Promise<number> {
  return (await freePortsBelow32768(1))[0]!;
}

/**
 * Free ports below 32768: Temporal stores membership ports in a PostgreSQL smallint, so the
 * kernel's ephemeral ports (above 32768 here) are refused there; and none of them is handed out by
 * the kernel meanwhile (freePort).
 */
export async function freePortsBelow32768(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (!(await portInUse(port))) ports.add(port);
  }
  return [...ports];
}

// --- Processes -------------------------------------------------------------------------------

/** Runs one of the project's TypeScript entry points (`worker/main.ts`, `scripts/dev/dev.ts`, …) with tsx, from the root. */
export function spawnEntry(entry: string, args: string[] = [], options: SpawnOptions & { nodeArgs?: string[] } = {}): ChildProcess {
  const { nodeArgs = [], ...spawnOptions } = options;
  return spawn(process.execPath, [...nodeArgs, '--import', 'tsx', entry, ...args], { cwd: root, ...spawnOptions });
}

/**
 * The compiled file of a production entry point in `checkout`'s dist/, or undefined for an entry
 * point that is not compiled (a dev command, a bench script). Our own checkout must be built: a
 * stale or missing build would test other code than the sources.
 */
export function compiledEntry(entry: string, checkout: string): string | undefined {
  const out = compiledEntryPoints[entry];
  if (!out) return undefined;
  if (existsSync(join(checkout, 'dist', buildInfoFile))) return join('dist', out);
  if (resolve(checkout) === resolve(root)) throw new Error(`no build in ${join(checkout, 'dist')}: run \`npm run build\` first (the test suite's global setup does)`);
  return undefined;
}

/** Polls `url`/healthz until it answers 2xx; throws after `timeoutMs`. */
export async function waitForHealthy(url: string, timeoutMs = 60_000, what = url): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await fetch(`${url}/healthz`).catch(() => undefined))?.ok) {
    if (Date.now() > deadline) throw new Error(`${what} did not answer /healthz within ${timeoutMs / 1000} s`);
    await sleep(100);
  }
}

// --- The API ---------------------------------------------------------------------------------

/** Creates a subscription through the API; answers its id, or throws with the answer. */
export async function createSubscription(
  apiUrl: string,
  token: string,
  partnerId: string,
  subscription: { url: string; eventTypes: string[]; batching: { windowMs: number; maxEvents: number } },
): Promise<string> {
  const response = await fetch(`${apiUrl}/v1/partners/${partnerId}/subscriptions`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(subscription),
  });
  if (response.status !== 201) throw new Error(`creating a subscription answered ${response.status}: ${await response.text()}`);
  return ((await response.json()) as { id: string }).id;
}

// --- /proc -----------------------------------------------------------------------------------

/** Whether `pid` runs (a zombie does not). */
export function isAlive(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z';
  } catch {
    return false;
  }
}

/** The command line of a running process (NUL-separated, as /proc gives it), or undefined. */
export function cmdlineOf(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8');
  } catch {
    return undefined;
  }
}

/**
 * CPU seconds (user + system) a process and its descendants have used so far; of several, their
 * sum. Descendants count: PostgreSQL does its work in one backend process per connection. The live
 * ones are read from /proc (one pass over it), and the ended ones are in their parent's cutime and
 * cstime.
 */
export function cpuSeconds(pid: number | number[]): number {
  const table = processTable();
  const treeCpu = (one: number): number =>
    (table.get(one)?.ticks ?? 0) / 100 + [...table].filter(([, entry]) => entry.ppid === one).reduce((sum, [child]) => sum + treeCpu(child), 0);
  return (Array.isArray(pid) ? pid : [pid]).reduce((sum, one) => sum + treeCpu(one), 0);
}

/** Every live process's parent and CPU ticks (utime + stime + cutime + cstime). */
function processTable(): Map<number, { ppid: number; ticks: number }> {
  const table = new Map<number, { ppid: number; ticks: number }>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const fields = readFileSync(`/proc/${entry}/stat`, 'utf8').split(') ')[1]!.split(' ');
      table.set(Number(entry), { ppid: Number(fields[1]), ticks: fields.slice(11, 15).reduce((sum, field) => sum + Number(field), 0) });
    } catch {
      // The process ended while we looked.
    }
  }
  return table;
}

/** A process's resident memory in MiB: now (`VmRSS`) or at its peak (`VmHWM`); of several, the sum. */
export function rssMb(pid: number | number[], which: 'now' | 'peak' = 'now'): number {
  if (Array.isArray(pid)) return pid.reduce((sum, one) => sum + rssMb(one, which), 0);
  try {
    const match = new RegExp(`${which === 'peak' ? 'VmHWM' : 'VmRSS'}:\\s+(\\d+) kB`).exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Math.round(Number(match[1]) / 1024) : 0;
  } catch {
    return 0;
  }
}

export interface ProjectProcess {
  child: ChildProcess;
  /** What it printed (stdout and stderr), when its output is kept; otherwise ''. */
  output: () => string;
  exited: Promise<number | null>;
  /** Settles once the process has exited and its output is all read ('exit' can come before the last of it). */
  closed: Promise<void>;
  /** SIGTERM, then SIGKILL after `graceMs` if it has not exited. */
  stop: (graceMs?: number) => Promise<void>;
  /** SIGKILL: no chance to finish anything. Resolves once it has exited. */
  kill: () => Promise<void>;
}

export interface ProjectProcessOptions {
  args?: string[];
  nodeArgs?: string[];
  /** Another checkout to run the entry point from (the benchmark's A/B runs). */
  cwd?: string;
  /**
   * `keep` (the default): stdout and stderr kept in memory for `output()`; `ignore`; or a file
   * descriptor both go to. The benchmark keeps none: piping a busy worker's log costs its CPU.
   */
  output?: 'keep' | 'ignore' | number;
}

/**
 * Runs one of the project's real entry points (`worker/main.ts`, `api/main.ts`) as its own process:
 * as production runs it, compiled (`node dist/worker.js`, from `npm run build`, which the test
 * suite's global setup runs). Another checkout (`cwd`) without a build runs it from its sources.
 */
export function startProjectProcess(entry: string, env: Record<string, string>, args: string[] | ProjectProcessOptions = {}): ProjectProcess {
  const { args: entryArgs = [], nodeArgs = [], cwd, output: keep = 'keep' } = Array.isArray(args) ? { args } : args;
  const compiled = compiledEntry(entry, cwd ?? root);
  const command = compiled ? [...nodeArgs, '--enable-source-maps', compiled, ...entryArgs] : [...nodeArgs, '--import', 'tsx', entry, ...entryArgs];
  const child = spawn(process.execPath, command, {
    cwd: cwd ?? root,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', keep === 'keep' ? 'pipe' : keep, keep === 'keep' ? 'pipe' : keep],
  });
  return watchProcess(child);
}

/** A ProjectProcess of a child already spawned (the Temporal dev server's, say). */
export function watchProcess(child: ChildProcess): ProjectProcess {
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  const running = () => child.exitCode === null && child.signalCode === null;
  return {
    child,
    output: () => output,
    exited,
    closed,
    stop: async (graceMs = 10_000) => {
      if (running()) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(timer);
    },
    kill: async () => {
      if (running()) child.kill('SIGKILL');
      await exited;
    },
  };
}

/**
 * Waits until the process has printed `text`. Fails at once if it exits first, and either way the
 * error carries the end of what it printed, so that a failed start says why.
 */
export async function waitForOutput(proc: ProjectProcess, text: string, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  const tail = () => proc.output().slice(-4_000);
  while (!proc.output().includes(text)) {
    if (proc.child.exitCode !== null || proc.child.signalCode !== null) {
      await Promise.race([proc.closed, new Promise((resolve) => setTimeout(resolve, 2_000))]);
      throw new Error(`${what} exited (${proc.child.exitCode ?? proc.child.signalCode}) before printing "${text}"; it printed:\n${tail()}`);
    }
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what} to print "${text}"; it printed:\n${tail()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
