import { createHash, timingSafeEqual } from 'node:crypto';
import type { MiddlewareHandler } from 'hono';
import { unauthorized } from './problem';

/**
 * Bearer-token authentication for every /v1 route. Tokens are compared as SHA-256 digests with
 * timingSafeEqual, so the comparison takes the same time whatever the length or prefix guessed.
 */
export function bearerAuth(token: string): MiddlewareHandler {
  const expected = digest(token);
  return async (c, next) => {
    const header = c.req.header('authorization') ?? '';
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match) throw unauthorized('send Authorization: Bearer <API_TOKEN>');
    if (!timingSafeEqual(digest(match[1]!), expected)) throw unauthorized('the bearer token is not valid');
    await next();
  };
}

function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}
