/**
 * `npm run replay -- …`: what a command line asks for, and the visibility queries that find the
 * runs. Pure, so that its refusals and its queries have unit tests (test/unit/replay-options.test.ts).
 */
import type * as workflows from '../../workflows';

/** The workflow types this product runs: the gate replays each of them. */
export const workflowTypes = ['subscriptionWorkflow', 'deliveryWorkflow', 'recoveryWorkflow', 'eventTypeWorkflow'] as const;
export type WorkflowType = (typeof workflowTypes)[number];
// A workflow added to workflows/index.ts and not to this list fails the type check here, so that
// the gate never skips a type.
type Unlisted = Exclude<keyof typeof workflows, WorkflowType>;
const _everyTypeListed: [Unlisted] extends [never] ? true : Unlisted = true;

export const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 10_000;
/** Beyond a year a window is not a deploy gate; histories that old are past most namespaces' retention. */
const MAX_WINDOW_MS = 366 * 86_400_000;

export const USAGE =
  'usage: npm run replay -- <workflowId> | --query "<visibility query>" | --recent <window: 90m, 24h, 7d> [--limit <runs per workflow type, default 100>]; any of them [--workflows <workflows/index.ts of another tree>]';

/** A command line the script refuses: its message is the one line it prints (exit 2). */
export class ReplayUsageError extends Error {
  override name = 'ReplayUsageError';
}

export type ReplaySelection =
  | { mode: 'workflow'; workflowId: string }
  | { mode: 'query'; query: string }
  | { mode: 'recent'; window: string; windowMs: number; limit: number };

export type ReplayOptions = ReplaySelection & {
  /** Replay against this workflow code (a path to its index) instead of the working tree's workflows/. */
  workflows?: string;
};

const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `90m`, `24h`, `7d`, `30s` in milliseconds: a whole number above zero and one unit. */
export function parseDuration(text: string): number {
  const match = /^(\d+)([smhd])$/.exec(text);
  if (!match) throw new ReplayUsageError(`replay: --recent takes a window such as 90m, 24h or 7d (s, m, h or d), not '${text}'`);
  const ms = Number(match[1]) * UNITS[match[2]!]!;
  if (ms <= 0) throw new ReplayUsageError(`replay: --recent takes a window above zero, not '${text}'`);
  if (ms > MAX_WINDOW_MS) throw new ReplayUsageError(`replay: --recent takes a window of at most 366d, not '${text}'`);
  return ms;
}

function parseLimit(text: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > MAX_LIMIT) {
    throw new ReplayUsageError(`replay: --limit takes a whole number of runs per workflow type from 1 to ${MAX_LIMIT}, not '${text}'`);
  }
  return Number(text);
}

const FLAGS = ['--query', '--recent', '--limit', '--workflows'] as const;
type Flag = (typeof FLAGS)[number];

/** Reads the command line (`process.argv.slice(2)`); throws ReplayUsageError with the line to print. */
export function parseReplayArgs(args: readonly string[]): ReplayOptions {
  if (args.length === 0) throw new ReplayUsageError(USAGE);
  const values = new Map<Flag, string>();
  const positional: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (!arg.startsWith('--')) {
      positional.push(arg);
      continue;
    }
    const [name, inline] = arg.includes('=') ? [arg.slice(0, arg.indexOf('=')), arg.slice(arg.indexOf('=') + 1)] : [arg, undefined];
    if (!(FLAGS as readonly string[]).includes(name)) throw new ReplayUsageError(`replay: unknown option ${name}; ${USAGE}`);
    const flag = name as Flag;
    if (values.has(flag)) throw new ReplayUsageError(`replay: ${flag} is given twice`);
    const value = inline ?? args[++i];
    if (value === undefined || value === '') throw new ReplayUsageError(`replay: ${flag} needs a value; ${USAGE}`);
    values.set(flag, value);
  }
  const query = values.get('--query');
  const recent = values.get('--recent');
  const limit = values.get('--limit');
  const chosen = [positional.length > 0, query !== undefined, recent !== undefined].filter(Boolean).length;
  if (chosen !== 1 || positional.length > 1) throw new ReplayUsageError(`replay: give one of a workflow id, --query or --recent; ${USAGE}`);
  if (limit !== undefined && recent === undefined) throw new ReplayUsageError('replay: --limit goes with --recent (a workflow id or --query replays every run it finds)');
  const workflowsOption = values.get('--workflows');
  const extra = workflowsOption === undefined ? {} : { workflows: workflowsOption };
  if (recent !== undefined) return { mode: 'recent', window: recent, windowMs: parseDuration(recent), limit: limit === undefined ? DEFAULT_LIMIT : parseLimit(limit), ...extra };
  if (query !== undefined) return { mode: 'query', query, ...extra };
  return { mode: 'workflow', workflowId: positional[0]!, ...extra };
}

/** A string literal of the visibility query language. */
export function quoted(value: string): string {
  return `'${value.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
}

/** Every run of one workflow id. */
export function workflowIdQuery(workflowId: string): string {
  return `WorkflowId = ${quoted(workflowId)}`;
}

/**
 * What the gate replays of one workflow type, in the order it spends its limit on them: the runs
 * still open first (the new workers will replay exactly those when they take over), then the runs
 * closed since `since`. Each query comes back newest first (visibility's own order: start time for
 * open runs, close time for closed ones; SQL visibility takes no ORDER BY).
 */
export function recentQueries(workflowType: WorkflowType, since: Date): [running: string, closed: string] {
  const type = `WorkflowType = ${quoted(workflowType)}`;
  return [`${type} AND ExecutionStatus = 'Running'`, `${type} AND ExecutionStatus != 'Running' AND CloseTime >= ${quoted(since.toISOString())}`];
}
