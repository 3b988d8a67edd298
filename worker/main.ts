import { NativeConnection } from '@temporalio/worker';
import { loadConfig } from '../domain/config';
import { createWorker } from './worker';

/**
 * The worker process. The SDK's runtime stops it gracefully on SIGINT/SIGTERM: running activities
 * get their cancellation, and nothing acknowledged is lost (Temporal keeps every task).
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const connection = await NativeConnection.connect({ address: config.temporal.address });
  try {
    const worker = await createWorker(config, connection);
    console.log(`worker: polling task queue "${config.temporal.taskQueue}" at ${config.temporal.address}`);
    await worker.run();
  } finally {
    await connection.close();
  }
}

main().catch((err: unknown) => {
  console.error('worker: fatal:', err);
  process.exit(1);
});
