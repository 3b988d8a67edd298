import { Hono } from 'hono';
import type { z } from 'zod';
import { batchPageQuerySchema, partnerIdSchema, recoverySchema, subscriptionIdSchema, type SubscriptionConfigPatch } from '../../domain/schema';
import { requireAdmin, type AuthVariables } from '../auth';
import type { SubscriptionService } from '../services/subscriptions';
import type { CreateSubscriptionInput } from '../../stores/subscription-store';
import { parseJsonBody, parseParam, pathParams } from '../validation';

export interface SubscriptionSchemas {
  create: z.ZodType<CreateSubscriptionInput>;
  patch: z.ZodType<SubscriptionConfigPatch>;
}

/** `/v1/partners/:partnerId/subscriptions`: admin only. */
export function subscriptionRoutes(subscriptions: SubscriptionService, schemas: SubscriptionSchemas) {
  const partner = pathParams({ partnerId: partnerIdSchema });
  const one = pathParams({ partnerId: partnerIdSchema, id: subscriptionIdSchema });
  return new Hono<{ Variables: AuthVariables }>()
    .use(requireAdmin)
    .post('/', partner, async (c) => {
      const { partnerId } = c.req.valid('param');
      return c.json(await subscriptions.create(partnerId, await parseJsonBody(c, schemas.create)), 201);
    })
    .get('/', partner, async (c) => {
      const { partnerId } = c.req.valid('param');
      return c.json({ subscriptions: await subscriptions.list(partnerId) });
    })
    .get('/:id', one, async (c) => {
      const { partnerId, id } = c.req.valid('param');
      return c.json(await subscriptions.get(partnerId, id));
    })
    .patch('/:id', one, async (c) => {
      const { partnerId, id } = c.req.valid('param');
      return c.json(await subscriptions.update(partnerId, id, await parseJsonBody(c, schemas.patch)));
    })
    .post('/:id/rotate-secret', one, async (c) => {
      const { partnerId, id } = c.req.valid('param');
      return c.json(await subscriptions.rotateSecret(partnerId, id));
    })
    .post('/:id/recover', one, async (c) => {
      const { partnerId, id } = c.req.valid('param');
      return c.json(await subscriptions.recover(partnerId, id, await parseJsonBody(c, recoverySchema)), 202);
    })
    .get('/:id/recover', one, async (c) => {
      const { partnerId, id } = c.req.valid('param');
      return c.json(await subscriptions.recovery(partnerId, id));
    })
    .delete('/:id', one, async (c) => {
      const { partnerId, id } = c.req.valid('param');
      await subscriptions.delete(partnerId, id);
      return c.body(null, 204);
    })
    .get('/:id/batches', one, async (c) => {
      const { partnerId, id } = c.req.valid('param');
      const { status, limit, cursor } = parseParam(batchPageQuerySchema, c.req.query(), 'query');
      return c.json(await subscriptions.listBatches(partnerId, id, { status, limit, cursor }));
    });
}
