/** Runs bench/bare-workflows.ts on its own task queue, as a separate process (TEMPORAL_* connection variables, TASK_QUEUE). */
import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker, Runtime, DefaultLogger } from '@temporalio/worker';
import { temporalConnection } from '../platform/temporal-connection';

Runtime.install({ logger: new DefaultLogger('ERROR') });
const temporal = temporalConnection(process.env);
const connection = await NativeConnection.connect(temporal.connection);
const worker = await Worker.create({
  connection,
  namespace: temporal.namespace,
  taskQueue: process.env.TASK_QUEUE!,
  workflowsPath: fileURLToPath(new URL('./bare-workflows.ts', import.meta.url)),
  activities: { noop: async () => {} },
});
process.stdout.write('ready\n');
await worker.run();
await connection.close();
