import { NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import { exitOnStartError, loadConfig } from '../domain/config';
import { jsonLogger, serveWorkerProbes, WorkerMetrics } from './observability';
import { createWorker } from './worker';
import { freePort } from '../scripts/kit';

/**
 * The worker process: JSON logs, /metrics and probes on WORKER_METRICS_PORT. The SDK's runtime
 * stops it gracefully on SIGINT/SIGTERM: it stops polling, lets running tasks finish (running
 * activities get their cancellation), and nothing acknowledged is lost (Temporal keeps every task).
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const metricsPort = config.worker.metricsPort;
  // The SDK's own exporter listens on a loopback port the kernel picks for a listener, and /metrics
  // serves it: a fixed neighbour (metricsPort + 1) can be held by an outgoing connection's local
  // port, even one in TIME_WAIT, and then the worker could not start.
  const sdkMetricsAddress = metricsPort ? `127.0.0.1:${await freePort()}` : undefined;
  Runtime.install({
    logger: jsonLogger(),
    telemetryOptions: sdkMetricsAddress ? { metrics: { prometheus: { bindAddress: sdkMetricsAddress } } } : undefined,
  });
  const metrics = new WorkerMetrics();
  let worker: Worker | undefined;
  const probes = metricsPort
    ? serveWorkerProbes(metricsPort, metrics, sdkMetricsAddress && `http://${sdkMetricsAddress}/metrics`, () => worker)
    : undefined;
  const connection = await NativeConnection.connect(config.temporal.connection);
  try {
    worker = await createWorker(config, connection, {}, metrics);
    Runtime.instance().logger.info('worker: polling', { taskQueue: config.temporal.taskQueue, address: config.temporal.address, security: config.temporal.security, encryption: config.encryption.describe, metricsPort });
    await worker.run();
  } finally {
    probes?.close();
    await connection.close();
  }
}

main().catch((err: unknown) => exitOnStartError('worker', err));
