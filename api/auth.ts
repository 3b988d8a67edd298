import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import type { ApiRole, ApiToken } from '../platform/config';
import { ProblemError, unauthorized } from '../platform/problem';

export type AuthVariables = { role: ApiRole };

/**
 * Bearer-token authentication for every /v1 route. Tokens are compared as SHA-256 digests with
 * timingSafeEqual, against every configured token, so the time taken says nothing about which
 * token or prefix was close. The caller's role is kept for `requireAdmin`.
 */
export function bearerAuth(tokens: ApiToken[]): MiddlewareHandler<{ Variables: AuthVariables }> {
  const known = tokens.map(({ role, token }) => ({ role, digest: digest(token) }));
  return async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) throw unauthorized('send Authorization: Bearer <API_TOKEN>');
    const presented = digest(match[1]!);
    let role: ApiRole | undefined;
    for (const candidate of known) {
      if (timingSafeEqual(presented, candidate.digest) && !role) role = candidate.role;
    }
    if (!role) throw unauthorized('the bearer token is not valid');
    c.set('role', role);
    await next();
  };
}

/** Lets only an admin token through: everything but posting events. */
export const requireAdmin: MiddlewareHandler<{ Variables: AuthVariables }> = async (c, next) => {
  if (c.get('role') !== 'admin') throw new ProblemError(403, 'Forbidden', 'this token may only post events');
  await next();
};

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
