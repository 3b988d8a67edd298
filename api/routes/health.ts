import { Hono } from 'hono';
import type { ApiMetrics } from '../observability';

export interface HealthDeps {
  /** Whether Temporal answers within a short deadline. */
  temporalReachable: () => Promise<boolean>;
  /** True once the process is stopping: /readyz then answers 503 so no new traffic is sent. */
  isStopping: () => boolean;
  metrics: ApiMetrics;
}

/** Health and metrics, without authentication: `/healthz`, `/livez`, `/readyz`, `/metrics`. */
export function healthRoutes({ temporalReachable, isStopping, metrics }: HealthDeps) {
  const unreachable = { status: 'unavailable', detail: 'Temporal is not reachable' };
  return (
    new Hono()
      .get('/healthz', async (c) => ((await temporalReachable()) ? c.json({ status: 'ok' }) : c.json(unreachable, 503)))
      // Liveness: the process answers. Readiness: it can take traffic (Temporal reachable, not stopping).
      .get('/livez', (c) => c.json({ status: 'ok' }))
      .get('/readyz', async (c) => {
        if (isStopping()) return c.json({ status: 'stopping' }, 503);
        return (await temporalReachable()) ? c.json({ status: 'ready' }) : c.json(unreachable, 503);
      })
      .get('/metrics', async (c) => c.body(await metrics.registry.metrics(), 200, { 'content-type': metrics.registry.contentType }))
  );
}
