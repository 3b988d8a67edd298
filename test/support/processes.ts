import type { ChildProcess } from 'node:child_process';
import { spawnEntry } from '../../harness/processes';

export { freePort } from '../../harness/processes';

export interface ProjectProcess {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
  /** Settles once the process has exited and its output is all read ('exit' can come before the last of it). */
  closed: Promise<void>;
  stop: () => Promise<void>;
}

/** Runs one of the project's real entry points (`worker/main.ts`, `api/main.ts`) as its own process. */
export function startProjectProcess(entry: string, env: Record<string, string>, args: string[] = []): ProjectProcess {
  const child = spawnEntry(entry, args, {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  return {
    child,
    output: () => output,
    exited,
    closed,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
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
