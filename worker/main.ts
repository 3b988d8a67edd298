import { NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import { exitOnStartError, loadConfig, type Config } from '../platform/config';
import { freePort } from '../platform/ports';
import { claimCurrent, WorkerDeployment } from '../platform/worker-deployment';
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
  const sdkMetricsAddress = await installRuntime(metricsPort !== 0);
  const metrics = new WorkerMetrics();
  let worker: Worker | undefined;
  const probes = metricsPort
    ? serveWorkerProbes(metricsPort, metrics, sdkMetricsAddress && `http://${sdkMetricsAddress}/metrics`, () => worker)
    : undefined;
  const connection = await NativeConnection.connect(config.temporal.connection);
  try {
    worker = await createWorker(config, connection, {}, metrics);
    const { deployment } = config.worker;
    Runtime.instance().logger.info('worker: polling', { taskQueue: config.temporal.taskQueue, address: config.temporal.address, security: config.temporal.security, encryption: config.encryption.describe, metricsPort, sdkMetricsAddress, deployment: deployment ?? 'unversioned' });
    const stopped = new AbortController();
    const running = worker.run().finally(() => stopped.abort());
    if (deployment) void settleCurrentVersion(connection, config.temporal.namespace, deployment, stopped.signal);
    await running;
  } finally {
    probes?.close();
    await connection.close();
  }
}

/** Applies WORKER_SET_CURRENT once the worker polls, and logs what it did; a failure is logged, not fatal. */
async function settleCurrentVersion(
  connection: NativeConnection,
  namespace: string,
  deployment: NonNullable<Config['worker']['deployment']>,
  signal: AbortSignal,
): Promise<void> {
  const log = Runtime.instance().logger;
  try {
    const workerDeployment = new WorkerDeployment(connection.workflowService, namespace, deployment.name);
    const outcome = await claimCurrent(workerDeployment, deployment.buildId, deployment.setCurrent, signal);
    const routing = outcome === 'left-alone' ? await workerDeployment.routing() : undefined;
    log.info(`worker: version ${outcome}`, { deployment: deployment.name, buildId: deployment.buildId, current: routing?.current ?? deployment.buildId });
  } catch (err) {
    if (!signal.aborted) log.warn('worker: could not settle the current version', { error: String(err), deployment: deployment.name, buildId: deployment.buildId });
  }
}

/**
 * Installs the SDK's runtime, with JSON logs and, when asked, its Prometheus exporter (which /metrics
 * serves) on a loopback port the kernel picks for a listener; answers the exporter's address. Not
 * a fixed neighbour of WORKER_METRICS_PORT: an outgoing connection's local port, even one in
 * TIME_WAIT, can hold that one, and the worker could not start. Another process may take the
 * picked port before the SDK binds it: then a fresh one is picked, three times at most.
 */
async function installRuntime(withExporter: boolean): Promise<string | undefined> {
  if (!withExporter) {
    Runtime.install({ logger: jsonLogger() });
    return undefined;
  }
  for (let attempt = 1; ; attempt++) {
    const bindAddress = `127.0.0.1:${await freePort()}`;
    try {
      Runtime.install({ logger: jsonLogger(), telemetryOptions: { metrics: { prometheus: { bindAddress } } } });
      return bindAddress;
    } catch (err) {
      if (attempt >= 3 || !/address already in use/i.test(String(err))) throw err;
    }
  }
}

main().catch((err: unknown) => exitOnStartError('worker', err));
