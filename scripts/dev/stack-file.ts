/**
 * What a running `npm run dev` or `npm run cluster` leaves in its data folder: the supervisor's
 * pid and every process group it started. The watchdog reads it when the supervisor dies; the
 * next start reads it to find a stack still running, or the remains of a crashed one.
 */
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cmdlineOf } from '../../harness/processes';

export interface StackProcess {
  name: string;
  /** The process, and the leader of its own process group. */
  pid: number;
  /** Its command line as /proc shows it, to tell it from an unrelated process that reused the pid. */
  cmdline: string;
}

export interface StackRecord {
  command: 'dev' | 'cluster';
  supervisor: { pid: number; cmdline: string };
  processes: StackProcess[];
}

export const stackFileIn = (dataDir: string): string => join(dataDir, 'stack.json');

export function readStack(file: string): StackRecord | undefined {
  if (!existsSync(file)) return undefined;
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as StackRecord;
  } catch {
    return undefined;
  }
}

export function writeStack(file: string, record: StackRecord): void {
  // Written whole, then renamed: a reader never sees half a file.
  writeFileSync(`${file}.tmp`, JSON.stringify(record, null, 2));
  renameSync(`${file}.tmp`, file);
}

export function removeStack(file: string): void {
  rmSync(file, { force: true });
}

/**
 * Whether `pid` is still the process recorded, not a stranger that reused the pid: the same
 * program (PostgreSQL rewrites the rest of its command line, so only the program is compared).
 */
export function stillRunning(recorded: { pid: number; cmdline: string }, { wholeCommandLine = false } = {}): boolean {
  const now = cmdlineOf(recorded.pid);
  const program = (cmdline: string) => cmdline.split('\0')[0];
  if (now === undefined || now === '') return false;
  return wholeCommandLine ? now === recorded.cmdline : program(now) === program(recorded.cmdline);
}

/** Stops the recorded process groups: SIGTERM, then SIGKILL to what is left after `graceMs`. */
export async function stopRecorded(processes: StackProcess[], graceMs = 10_000): Promise<void> {
  const signal = (pid: number, name: NodeJS.Signals) => {
    try {
      process.kill(-pid, name);
    } catch {
      // Already gone.
    }
  };
  const alive = () => processes.filter((p) => stillRunning(p));
  for (const p of alive()) signal(p.pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (alive().length > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
  for (const p of alive()) signal(p.pid, 'SIGKILL');
  while (alive().length > 0) await new Promise((resolve) => setTimeout(resolve, 50));
}
