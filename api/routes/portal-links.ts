import { Hono } from 'hono';
import { partnerIdSchema } from '../../domain/schema';
import { requireAdmin, type AuthVariables } from '../auth';
import type { PortalKeys } from '../portal/session';
import { pathParams } from '../validation';

/** `POST /v1/partners/:partnerId/portal-links`: a signed, expiring sign-in link to Depo (docs/portal.md); admin only. */
export function portalLinkRoutes(keys: Pick<PortalKeys, 'issueLink'>) {
  return new Hono<{ Variables: AuthVariables }>()
    .use(requireAdmin)
    .post('/', pathParams({ partnerId: partnerIdSchema }), async (c) => {
      const { token, expiresAt } = await keys.issueLink(c.req.valid('param').partnerId);
      return c.json({ url: new URL(`/portal/login?token=${token}`, c.req.url).toString(), expiresAt }, 201);
    });
}
