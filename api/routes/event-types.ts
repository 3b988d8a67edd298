import { Hono } from 'hono';
import { createEventTypeSchema, eventTypeSchema, patchEventTypeSchema } from '../../domain/schema';
import { requireAdmin, type AuthVariables } from '../auth';
import type { EventTypeService } from '../services/event-types';
import { parseJsonBody, pathParams } from '../validation';

/** `/v1/event-types`: the event-type catalog; admin only. */
export function eventTypeRoutes(eventTypes: EventTypeService) {
  const one = pathParams({ name: eventTypeSchema });
  return new Hono<{ Variables: AuthVariables }>()
    .use(requireAdmin)
    .post('/', async (c) => c.json(await eventTypes.create(await parseJsonBody(c, createEventTypeSchema)), 201))
    .get('/', async (c) => c.json({ eventTypes: await eventTypes.list() }))
    .get('/:name', one, async (c) => c.json(await eventTypes.get(c.req.valid('param').name)))
    .patch('/:name', one, async (c) => c.json(await eventTypes.update(c.req.valid('param').name, await parseJsonBody(c, patchEventTypeSchema))))
    .post('/:name/archive', one, async (c) => c.json(await eventTypes.archive(c.req.valid('param').name)));
}
