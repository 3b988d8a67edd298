/** Runs bench/bare-workflows.ts on its own task queue, as a separate process (TEMPORAL_ADDRESS, TASK_QUEUE). */
import { fileURLToPath } from 'node:url';
import { NativeConnection, Worker, Runtime, DefaultLogger } from '@temporalio/worker';

Runtime.install({ logger: new DefaultLogger('ERROR') });
const connection = await NativeConnection.connect({ address: process.env.TEMPORAL_ADDRESS! });
const worker = await Worker.create({
  connection,
  taskQueue: process.env.TASK_QUEUE!,
  workflowsPath: fileURLToPath(new URL('./bare-workflows.ts', import.meta.url)),
  activities: { noop: async () => {} },
});
process.stdout.write('ready\n');
await worker.run();
await connection.close();
