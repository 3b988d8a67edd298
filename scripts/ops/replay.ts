/**
 * Replays workflow histories from the server against the current workflow code, to debug a run
 * or to check that a change to workflows/ is safe before deploying it.
 *
 *   npm run replay -- <workflowId>                         every run of that workflow
 *   npm run replay -- --query "WebhookPartnerId = 'acme'"  every run a visibility query finds
 *
 * Prints one line per run and exits 1 if any run diverges (non-determinism) or fails to replay.
 */
import { Client, Connection } from '@temporalio/client';
import { DefaultLogger, Runtime, Worker } from '@temporalio/worker';
import { PayloadKeyError } from '../../codec/payload-codec';
import { exitOnStartError, loadConfig } from '../../platform/config';
import { workflowsPath } from '../../worker/worker';

function usage(): never {
  console.error('usage: npm run replay -- <workflowId> | --query "<visibility query>"');
  process.exit(2);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args.length === 0) usage();
  const query = args[0] === '--query' ? (args[1] ?? usage()) : `WorkflowId = '${args[0]!.replace(/'/g, "\\'")}'`;
  Runtime.install({ logger: new DefaultLogger('ERROR') });
  const { temporal } = loadConfig();
  const connection = await Connection.connect(temporal.connection);
  // Histories come back with their payloads as stored: the replaying worker decrypts them, with the
  // same key ring as the worker that wrote them (PAYLOAD_KEYS or PAYLOAD_KEYS_FILE).
  const client = new Client({ connection, namespace: temporal.namespace, dataConverter: temporal.dataConverter });
  let replayed = 0;
  let diverged = 0;
  const histories = client.workflow.list({ query }).intoHistories();
  for await (const result of Worker.runReplayHistories({ workflowsPath, dataConverter: temporal.dataConverter }, histories)) {
    replayed++;
    if (!result.error) {
      console.log(`ok        ${result.workflowId} (run ${result.runId})`);
      continue;
    }
    diverged++;
    const kind = result.error.name === 'DeterminismViolationError' ? 'DIVERGED' : 'FAILED  ';
    console.log(`${kind}  ${result.workflowId} (run ${result.runId})`);
    console.log(`          ${firstDivergence(result.error.message)}`);
  }
  await connection.close();
  if (replayed === 0) {
    console.log(`no workflow matched: ${query}`);
    process.exit(2);
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
  // Encrypted histories without their key: say which key, in one line.
  if (err instanceof PayloadKeyError) {
    console.error(`replay: cannot read the histories: ${err.message}`);
    process.exit(1);
  }
  exitOnStartError('replay', err);
});
