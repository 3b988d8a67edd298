/**
 * Replays workflow histories from the server against the current workflow code, to debug a run,
 * to check that a change to workflows/ is safe, or as the gate a deploy pipeline runs before it
 * rolls out new workers.
 *
 *   npm run replay -- <workflowId>                         every run of that workflow
 *   npm run replay -- --query "WebhookPartnerId = 'acme'"  every run a visibility query finds
 *   npm run replay -- --recent 24h [--limit 100]           the gate: of each workflow type, the runs
 *                                                          still open and those closed in the last
 *                                                          24 h, newest first, up to 100 a type
 *   … --workflows <path/to/index.ts>                       against other workflow code than workflows/
 *
 * From the sources (npm run replay) it replays the working tree's workflows/; compiled (`node
 * dist/replay.js`, as in the image) the build's own workflow bundle, which is what its workers run.
 *
 * Prints one line per run (and with --recent a summary per workflow type). Exits 0 when every run
 * replays, 1 if any diverges (non-determinism) or fails to replay, 2 on a bad command line or when
 * nothing matched.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { History } from '@temporalio/common/lib/proto-utils';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { PayloadKeyError } from '../../codec/payload-codec';
import { exitOnStartError, loadConfig } from '../../platform/config';
import { workflowsPath } from '../../worker/worker';
import { parseReplayArgs, recentQueries, ReplayUsageError, workflowIdQuery, workflowTypes, type ReplayOptions, type WorkflowType } from './replay-options';

/** One workflow type of the gate, or everything a workflow id or a query finds. */
interface Selection {
  type?: WorkflowType;
  queries: string[];
  /** Runs replayed at most (the gate's --limit); every run when absent. */
  limit?: number;
  replayed: number;
  diverged: number;
  /** More runs matched than the limit let through. */
  capped: boolean;
}

interface Run {
  workflowId: string;
  runId: string;
  selection: Selection;
}

function selectionsOf(options: ReplayOptions): Selection[] {
  const counts = { replayed: 0, diverged: 0, capped: false };
  if (options.mode === 'workflow') return [{ queries: [workflowIdQuery(options.workflowId)], ...counts }];
  if (options.mode === 'query') return [{ queries: [options.query], ...counts }];
  const since = new Date(Date.now() - options.windowMs);
  return workflowTypes.map((type) => ({ type, queries: recentQueries(type, since), limit: options.limit, ...counts }));
}

/** The runs to replay, selection by selection, query by query, each run once, within each selection's limit. */
async function* listRuns(client: Client, selections: Selection[]): AsyncGenerator<Run> {
  for (const selection of selections) {
    const { limit } = selection;
    const seen = new Set<string>();
    queries: for (const query of selection.queries) {
      for await (const { workflowId, runId } of client.workflow.list({ query, ...(limit ? { pageSize: Math.min(limit + 1, 1_000) } : {}) })) {
        // A run that closed between the two queries of a type comes back from both.
        if (seen.has(runId)) continue;
        if (limit !== undefined && seen.size >= limit) {
          selection.capped = true;
          break queries;
        }
        seen.add(runId);
        yield { workflowId, runId, selection };
      }
    }
  }
}

/** `fetch` of each item, up to `ahead` at a time, in the source's order. */
async function* fetchAhead<T, R>(source: AsyncIterable<T>, fetch: (item: T) => Promise<R>, ahead: number): AsyncGenerator<R> {
  const queue: Promise<R>[] = [];
  for await (const item of source) {
    const fetching = fetch(item);
    // Awaited in turn below; a rejection while it waits in the queue is not unhandled.
    fetching.catch(() => undefined);
    queue.push(fetching);
    if (queue.length >= ahead) yield await queue.shift()!;
  }
  while (queue.length > 0) yield await queue.shift()!;
}

async function main(): Promise<void> {
  const options = parseReplayArgs(process.argv.slice(2));
  const workflows = options.workflows === undefined ? workflowsPath : resolve(options.workflows);
  if (options.workflows !== undefined && !existsSync(workflows)) throw new ReplayUsageError(`replay: --workflows: no such file: ${options.workflows}`);
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const { temporal, worker } = loadConfig();
  // The code replayed: --workflows; else, compiled, the build's own workflow bundle (what its
  // workers would run); else, from the sources (npm run replay), the working tree's workflows/.
  const code =
    options.workflows === undefined && worker.workflowBundlePath ? { workflowBundle: { codePath: worker.workflowBundlePath } } : { workflowsPath: workflows };
  const connection = await Connection.connect(temporal.connection);
  // Histories come back with their payloads as stored: the replaying worker decrypts them, with the
  // same key ring as the worker that wrote them (PAYLOAD_KEYS or PAYLOAD_KEYS_FILE).
  const client = new Client({ connection, namespace: temporal.namespace, dataConverter: temporal.dataConverter });
  const selections = selectionsOf(options);
  const runs = listRuns(client, selections);
  // Listing is cheap and bundling the workflow code is not: find out first whether anything matched.
  const first = await runs.next();
  if (first.done) {
    await connection.close();
    const what = options.mode === 'recent' ? `no ${workflowTypes.join(', ')} running or closed in the last ${options.window}` : selections[0]!.queries[0]!;
    console.log(`no workflow matched: ${what}`);
    process.exit(2);
  }
  async function* allRuns(): AsyncGenerator<Run> {
    yield first.value as Run;
    yield* runs;
  }
  const histories = fetchAhead(allRuns(), async (run) => ({ run, history: await client.workflow.getHandle(run.workflowId, run.runId).fetchHistory() }), 5);
  // The replay worker takes one history, replays it, yields its result, and only then takes the
  // next: results come back in the order of this queue.
  const replaying: Run[] = [];
  async function* toReplay(): AsyncGenerator<{ workflowId: string; history: History }> {
    for await (const { run, history } of histories) {
      replaying.push(run);
      yield { workflowId: run.workflowId, history };
    }
  }

  let replayed = 0;
  let diverged = 0;
  for await (const result of Worker.runReplayHistories({ ...code, dataConverter: temporal.dataConverter }, toReplay())) {
    const run = replaying.shift()!;
    replayed++;
    run.selection.replayed++;
    if (!result.error) {
      console.log(`ok        ${run.workflowId} (run ${run.runId})`);
      continue;
    }
    diverged++;
    run.selection.diverged++;
    const kind = result.error.name === 'DeterminismViolationError' ? 'DIVERGED' : 'FAILED  ';
    console.log(`${kind}  ${run.workflowId} (run ${run.runId})`);
    console.log(`          ${firstDivergence(result.error.message)}`);
  }
  await connection.close();
  if (options.mode === 'recent') {
    const width = Math.max(...workflowTypes.map((type) => type.length));
    console.log('');
    for (const selection of selections) {
      const name = selection.type!.padEnd(width);
      if (selection.replayed === 0) {
        console.log(`${name}  none running or closed in the last ${options.window}`);
        continue;
      }
      const capped = selection.capped ? ` (the newest ${options.limit}; more matched: raise --limit to replay them)` : '';
      console.log(`${name}  ${selection.replayed} replayed: ${selection.replayed - selection.diverged} ok, ${selection.diverged} diverged or failed${capped}`);
    }
  }
  console.log(`\n${replayed} run(s) replayed: ${replayed - diverged} ok, ${diverged} diverged or failed`);
  process.exit(diverged > 0 ? 1 : 0);
}

/** The part of the SDK's message that names the first history event the new code disagrees with. */
export function firstDivergence(message: string): string {
  const event = /HistoryEvent\(id: (\d+), ([^)]*)\)/.exec(message) ?? /event (?:id )?(\d+)/i.exec(message);
  return event ? `first diverging event: #${event[1]}${event[2] ? ` (${event[2]})` : ''} — ${message.split('\n')[0]}` : message.split('\n')[0]!;
}

main().catch((err: unknown) => {
  if (err instanceof ReplayUsageError) {
    console.error(err.message);
    process.exit(2);
  }
  // Encrypted histories without their key: say which key, in one line.
  if (err instanceof PayloadKeyError) {
    console.error(`replay: cannot read the histories: ${err.message}`);
    process.exit(1);
  }
  exitOnStartError('replay', err);
});
