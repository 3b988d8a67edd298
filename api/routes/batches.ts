import { Hono } from 'hono';
import { batchIdSchema } from '../../domain/schema';
import { requireAdmin, type AuthVariables } from '../auth';
import type { BatchStore } from '../../stores/batch-store';
import { pathParams } from '../validation';

/** What the batch routes and Depo need from batches; tests give the routes an in-memory one. */
export type BatchService = Pick<BatchStore, 'get' | 'page' | 'redeliver'>;

/** `/v1/batches/:batchId`: admin only. */
export function batchRoutes(batches: BatchService) {
  const one = pathParams({ batchId: batchIdSchema });
  return new Hono<{ Variables: AuthVariables }>()
    .use(requireAdmin)
    .get('/:batchId', one, async (c) => c.json(await batches.get(c.req.valid('param').batchId)))
    .post('/:batchId/redeliver', one, async (c) => {
      const { batchId } = c.req.valid('param');
      await batches.redeliver(batchId);
      return c.json({ batchId, status: 'pending' }, 202);
    });
}
