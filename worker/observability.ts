import { createServer, type Server } from 'node:http';
import { DefaultLogger, type LogEntry, type Worker } from '@temporalio/worker';
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * The worker's metrics and probes. Our delivery metrics live in a prom-client registry; the
 * Temporal SDK's own runtime metrics (task slots, latencies, and the workflows' `batches_cut`
 * counter) come from the SDK's Prometheus exporter on a loopback port and are appended, so one
 * scrape of `/metrics` gets both.
 */
export class WorkerMetrics {
  readonly registry = new Registry();
  readonly attempts = new Counter({
    name: 'webhooks_delivery_attempts_total',
    help: 'Delivery attempts by outcome (delivered, failed) and HTTP status class (2xx, 3xx, 4xx, 5xx, 1xx, error)',
    labelNames: ['outcome', 'status_class'] as const,
    registers: [this.registry],
  });
  readonly attemptSeconds = new Histogram({
    name: 'webhooks_delivery_attempt_duration_seconds',
    help: 'Duration of one delivery attempt, from sending the request to the verdict',
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'webhooks_worker_' });
  }

  record(outcome: 'delivered' | 'failed', status: number | undefined, seconds: number): void {
    const statusClass = status === undefined ? 'error' : `${Math.floor(status / 100)}xx`;
    this.attempts.inc({ outcome, status_class: statusClass });
    this.attemptSeconds.observe(seconds);
  }
}

/** Serves /metrics, /livez (the process answers) and /readyz (the worker is polling). */
export function serveWorkerProbes(port: number, metrics: WorkerMetrics, sdkMetricsUrl: string | undefined, worker: () => Worker | undefined): Server {
  const server = createServer((req, res) => {
    void (async () => {
      if (req.url === '/livez') return void res.writeHead(200).end('ok');
      if (req.url === '/readyz') {
        const state = worker()?.getState();
        return void res.writeHead(state === 'RUNNING' ? 200 : 503).end(state ?? 'STARTING');
      }
      if (req.url === '/metrics') {
        let sdk = '';
        if (sdkMetricsUrl) sdk = await fetch(sdkMetricsUrl).then((r) => r.text(), () => '');
        res.writeHead(200, { 'content-type': metrics.registry.contentType });
        return void res.end(`${await metrics.registry.metrics()}\n${sdk}`);
      }
      res.writeHead(404).end();
    })();
  });
  server.listen(port, '0.0.0.0');
  return server;
}

/** One JSON object per line, with whatever ids the SDK and our code attach (workflowId, batchId, …). */
export function jsonLogger(level: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR' = 'INFO'): DefaultLogger {
  return new DefaultLogger(level, ({ level: severity, message, meta, timestampNanos }: LogEntry) => {
    const line = { time: new Date(Number(timestampNanos / 1_000_000n)).toISOString(), level: severity.toLowerCase(), message, ...meta };
    process.stdout.write(`${JSON.stringify(line, (_key, value: unknown) => (typeof value === 'bigint' ? value.toString() : value))}\n`);
  });
}
