import { NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import { exitOnStartError, loadConfig } from '../domain/config';
import { jsonLogger, serveWorkerProbes, WorkerMetrics } from './observability';
import { createWorker } from './worker';

/**
 * The worker process: JSON logs, /metrics and probes on WORKER_METRICS_PORT. The SDK's runtime
 * stops it gracefully on SIGINT/SIGTERM: it stops polling, lets running tasks finish (running
 * activities get their cancellation), and nothing acknowledged is lost (Temporal keeps every task).
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const metricsPort = config.worker.metricsPort;
  const sdkMetricsAddress = metricsPort ? `127.0.0.1:${metricsPort + 1}` : undefined;
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
