import { randomBytes, timingSafeEqual } from 'node:crypto';
import { sign, verify } from 'hono/jwt';

/** A sign-in link is good for 15 minutes; the session it opens for 8 hours. */
export const LINK_TTL_SECONDS = 15 * 60;
export const SESSION_TTL_SECONDS = 8 * 60 * 60;
/** `__Host-`: the browser only keeps it if Secure, Path=/ and without Domain. */
export const SESSION_COOKIE = '__Host-depo_session';

export interface PortalSession {
  partnerId: string;
  /** The token every form must carry back (double-submit: it lives only in the signed session). */
  csrf: string;
  /** Seconds since the epoch. */
  exp: number;
}

/**
 * Depo's credentials: HS256 JWTs (hono/jwt) under PORTAL_SECRET. A link token (`use: link`) is
 * handed out by the admin API and traded once for a session token (`use: session`), kept in an
 * HttpOnly cookie. Each names one partner: every page and action is scoped to it.
 */
export class PortalKeys {
  constructor(private readonly secret: string) {}

  async issueLink(partnerId: string, now = Date.now()): Promise<{ token: string; expiresAt: string }> {
    const exp = Math.floor(now / 1000) + LINK_TTL_SECONDS;
    const token = await sign({ sub: partnerId, use: 'link', exp, jti: randomBytes(12).toString('hex') }, this.secret, 'HS256');
    return { token, expiresAt: new Date(exp * 1000).toISOString() };
  }

  /** The partner a link token names, or undefined if it is forged, expired or not a link. */
  async openLink(token: string): Promise<string | undefined> {
    const payload = await this.read(token);
    return payload?.use === 'link' && typeof payload.sub === 'string' ? payload.sub : undefined;
  }

  async issueSession(partnerId: string, now = Date.now()): Promise<{ token: string; session: PortalSession }> {
    const session: PortalSession = { partnerId, csrf: randomBytes(24).toString('base64url'), exp: Math.floor(now / 1000) + SESSION_TTL_SECONDS };
    const token = await sign({ sub: partnerId, use: 'session', csrf: session.csrf, exp: session.exp }, this.secret, 'HS256');
    return { token, session };
  }

  async openSession(token: string | undefined): Promise<PortalSession | undefined> {
    if (!token) return undefined;
    const payload = await this.read(token);
    if (payload?.use !== 'session' || typeof payload.sub !== 'string' || typeof payload.csrf !== 'string' || typeof payload.exp !== 'number') return undefined;
    return { partnerId: payload.sub, csrf: payload.csrf, exp: payload.exp };
  }

  private async read(token: string): Promise<Record<string, unknown> | undefined> {
    try {
      return await verify(token, this.secret, 'HS256');
    } catch {
      return undefined;
    }
  }
}

/** Whether a form's CSRF token is the session's, compared in constant time. */
export function csrfMatches(session: PortalSession, submitted: unknown): boolean {
  if (typeof submitted !== 'string') return false;
  const expected = Buffer.from(session.csrf);
  const given = Buffer.from(submitted);
  return expected.length === given.length && timingSafeEqual(expected, given);
}
