import { Hono } from 'hono';
import { eventsRequestSchema, partnerIdSchema } from '../../domain/schema';
import type { AuthVariables } from '../auth';
import type { EventIngestService } from '../services/event-ingest';
import { parseJsonBody, pathParams } from '../validation';

/** `POST /v1/partners/:partnerId/events`: the one route a producer token may use. */
export function eventRoutes(ingest: EventIngestService) {
  return new Hono<{ Variables: AuthVariables }>().post('/', pathParams({ partnerId: partnerIdSchema }), async (c) => {
    const { partnerId } = c.req.valid('param');
    const body = await parseJsonBody(c, eventsRequestSchema);
    const events = Array.isArray(body) ? await ingest.publish(partnerId, body, true) : await ingest.publish(partnerId, [body], false);
    return c.json({ events }, 202);
  });
}
