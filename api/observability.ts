import type { MiddlewareHandler } from 'hono';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The API's Prometheus metrics: requests by route and status, events accepted, signals sent. */
export class ApiMetrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'webhooks_api_requests_total',
    help: 'HTTP requests by method, route pattern and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });
  readonly requestSeconds = new Histogram({
    name: 'webhooks_api_request_duration_seconds',
    help: 'HTTP request duration by route pattern (for events: until Temporal recorded them)',
    labelNames: ['route'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });
  readonly eventsAccepted = new Counter({
    name: 'webhooks_events_accepted_total',
    help: 'Events answered with 202 (recorded in Temporal)',
    registers: [this.registry],
  });
  readonly eventsRouted = new Counter({
    name: 'webhooks_events_routed_total',
    help: 'Event deliveries routed to subscriptions (an event routed to two subscriptions counts twice)',
    registers: [this.registry],
  });
  readonly requestsShed = new Counter({
    name: 'webhooks_event_requests_shed_total',
    help: 'Event requests refused with 503 and Retry-After: a subscription they go to was behind (INGEST_SHED_AFTER_MS), or this process was at its admission limit (INGEST_ADMISSION_TARGET_MS)',
    labelNames: ['reason'],
    registers: [this.registry],
  });
  readonly signals = new Counter({
    name: 'webhooks_signals_total',
    help: 'Signals sent to subscription workflows (after group commit)',
    registers: [this.registry],
  });

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'webhooks_api_' });
  }

  /** Batches by state, counted in Temporal's visibility store when scraped. */
  watchBatches(count: (query: string) => Promise<number>): void {
    new Gauge({
      name: 'webhooks_batches',
      help: 'Batches by status: pending (retrying or about to be tried) and failed (after 26 attempts or a deleted subscription)',
      labelNames: ['status'] as const,
      registers: [this.registry],
      async collect() {
        const [pending, failed] = await Promise.all([
          count("WorkflowType = 'deliveryWorkflow' AND ExecutionStatus = 'Running'"),
          count("WorkflowType = 'deliveryWorkflow' AND ExecutionStatus = 'Failed'"),
        ]).catch(() => [NaN, NaN]);
        this.set({ status: 'pending' }, pending);
        this.set({ status: 'failed' }, failed);
      },
    });
  }

  middleware(): MiddlewareHandler {
    return async (c, next) => {
      const started = performance.now();
      await next();
      const route = c.req.routePath;
      this.requests.inc({ method: c.req.method, route, status: String(c.res.status) });
      this.requestSeconds.observe({ route }, (performance.now() - started) / 1000);
    };
  }
}
