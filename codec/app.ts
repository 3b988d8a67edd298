import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { Payload } from '@temporalio/common';
import { Hono, type Context } from 'hono';
import { bodyLimit } from 'hono/body-limit';
import { getCookie, setCookie, deleteCookie } from 'hono/cookie';
import { cors } from 'hono/cors';
import { z } from 'zod';
import { badRequest, ProblemError, tooLarge, unauthorized } from '../platform/problem';
import type { EncryptionCodec } from './payload-codec';

/**
 * The codec server: Temporal's remote codec protocol (`POST /decode`, `POST /encode`, each taking
 * and answering `{"payloads": [...]}` in the JSON form of Temporal payloads), so the Web UI and
 * `temporal --codec-endpoint` show payloads decrypted to the people allowed to see them.
 *
 * Who may call it (docs/decisions/0006-codec-server-credential.md): with `auth: 'token'`, a caller
 * presents an operator token from CODEC_TOKENS, either as `Authorization: Bearer` (the CLI's
 * `--codec-auth`) or as the session cookie that `/login` sets (the Web UI, whose requests carry it
 * with "include cross-origin credentials"). Browsers may call it only from the listed origins.
 */
export const MAX_CODEC_REQUEST_BYTES = 64 * 1024 * 1024;
export const SESSION_COOKIE = 'webhooks_codec_session';
const SESSION_SECONDS = 12 * 60 * 60;

export interface CodecAppOptions {
  codec: EncryptionCodec;
  auth: 'token' | 'none';
  tokens: string[];
  corsOrigins: string[];
  now?: () => number;
  /** Where each decode and encode is recorded (who, how many payloads, which namespace); JSON lines on stdout by default. */
  audit?: (entry: CodecAuditEntry) => void;
}

/** One line of the codec server's audit trail. `operator` names a token by a fingerprint, never the token. */
export interface CodecAuditEntry {
  action: 'decode' | 'encode';
  operator: string;
  via: 'bearer' | 'session' | 'none';
  payloads: number;
  namespace: string | undefined;
  origin: string | undefined;
  status: number;
}

/** A token's name in logs: the first 12 hex digits of its SHA-256. */
export const tokenFingerprint = (token: string) => createHash('sha256').update(token).digest('hex').slice(0, 12);
const auditToStdout = (entry: CodecAuditEntry) => console.log(JSON.stringify({ time: new Date().toISOString(), level: 'info', message: `codec: ${entry.action}`, ...entry }));

// Protobuf JSON form: bytes are base64 strings.
const payloadJson = z.object({
  metadata: z.record(z.string(), z.string().regex(/^[A-Za-z0-9+/=_-]*$/, 'metadata values are base64')).optional(),
  data: z.string().regex(/^[A-Za-z0-9+/=_-]*$/, 'data is base64').optional(),
});
const payloadsBody = z.object({ payloads: z.array(payloadJson) });
type PayloadJson = z.infer<typeof payloadJson>;

const fromJson = (p: PayloadJson): Payload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([key, value]) => [key, Buffer.from(value, 'base64')])),
  data: Buffer.from(p.data ?? '', 'base64'),
});
const toJson = (p: Payload): PayloadJson => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([key, value]) => [key, Buffer.from(value ?? []).toString('base64')])),
  data: Buffer.from(p.data ?? []).toString('base64'),
});

const digest = (value: string) => createHash('sha256').update(value).digest();
const sessionMac = (token: string, expires: number) => createHmac('sha256', token).update(`codec-session:${expires}`).digest('base64url');

export function createCodecApp({ codec, auth, tokens, corsOrigins, now = Date.now, audit = auditToStdout }: CodecAppOptions) {
  const tokenDigests = tokens.map(digest);
  /** The token presented, if it is one of ours (every one compared, in constant time). */
  const knownToken = (candidate: string): string | undefined => {
    const candidateDigest = digest(candidate);
    let found: string | undefined;
    tokenDigests.forEach((known, index) => {
      if (timingSafeEqual(known, candidateDigest)) found = tokens[index];
    });
    return found;
  };
  // A session is "<expiry ms>.<HMAC of the expiry under an operator token>": no server-side state,
  // and removing a token from CODEC_TOKENS ends the sessions opened with it.
  /** The token a session cookie was opened with, if the cookie is valid and unexpired. */
  const sessionToken = (cookie: string | undefined): string | undefined => {
    const [expiresText, mac] = (cookie ?? '').split('.');
    const expires = Number(expiresText);
    if (!mac || !Number.isSafeInteger(expires) || expires < now()) return undefined;
    const given = Buffer.from(mac);
    return tokens.find((token) => {
      const expected = Buffer.from(sessionMac(token, expires));
      return expected.length === given.length && timingSafeEqual(expected, given);
    });
  };
  /** Who is calling, for the audit trail; throws 401 when nobody allowed is. */
  const requireOperator = (c: Context): Pick<CodecAuditEntry, 'operator' | 'via'> => {
    if (auth === 'none') return { operator: 'anyone (CODEC_AUTH=none)', via: 'none' };
    const header = c.req.header('authorization') ?? '';
    const bearer = /^Bearer (.+)$/i.exec(header)?.[1];
    const token = bearer ? knownToken(bearer) : sessionToken(getCookie(c, SESSION_COOKIE));
    if (token) return { operator: tokenFingerprint(token), via: bearer ? 'bearer' : 'session' };
    throw unauthorized('the codec server needs an operator token: Authorization: Bearer <token from CODEC_TOKENS>, or a session from /login');
  };
  const secure = (c: Context) => new URL(c.req.url).protocol === 'https:' || c.req.header('x-forwarded-proto') === 'https';

  const app = new Hono();
  app.use(
    '*',
    cors({
      origin: (origin) => (corsOrigins.includes(origin) ? origin : null),
      credentials: true,
      allowMethods: ['POST', 'GET', 'OPTIONS'],
      allowHeaders: ['Content-Type', 'X-Namespace', 'Authorization'],
      maxAge: 600,
    }),
  );

  const codecRoute = (direction: 'encode' | 'decode') => async (c: Context) => {
    // A page on any other origin gets no CORS headers (it cannot read an answer) and is refused
    // before anything is decrypted: an operator's cookie must not let another site use the codec.
    const origin = c.req.header('origin');
    if (origin && !corsOrigins.includes(origin)) {
      throw new ProblemError(403, 'Forbidden', `origin ${origin} may not call this codec server (CODEC_CORS_ORIGINS)`);
    }
    const caller = requireOperator(c);
    let raw: unknown;
    try {
      raw = await c.req.json();
    } catch {
      throw badRequest('the body is not JSON: send {"payloads": [...]}');
    }
    const parsed = payloadsBody.safeParse(raw);
    if (!parsed.success) {
      throw badRequest(`the body is not {"payloads": [...]}: ${parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`).join('; ')}`);
    }
    const payloads = parsed.data.payloads.map(fromJson);
    const record = (status: number) => audit({ action: direction, ...caller, payloads: payloads.length, namespace: c.req.header('x-namespace'), origin, status });
    let result: Payload[];
    try {
      result = direction === 'encode' ? await codec.encode(payloads) : await codec.decode(payloads);
    } catch (err) {
      record(422);
      throw new ProblemError(422, 'Unprocessable Content', (err as Error).message);
    }
    record(200);
    return c.json({ payloads: result.map(toJson) });
  };

  app
    .use(
      '*',
      bodyLimit({
        maxSize: MAX_CODEC_REQUEST_BYTES,
        onError: () => {
          throw tooLarge(`the request body is larger than ${MAX_CODEC_REQUEST_BYTES} bytes`);
        },
      }),
    )
    .get('/healthz', (c) => c.json({ status: 'ok', auth }))
    .post('/decode', codecRoute('decode'))
    .post('/encode', codecRoute('encode'))
    .get('/login', (c) => c.html(loginPage(auth === 'none' ? 'This codec server asks no credential (it listens on loopback only).' : undefined)))
    .post('/login', async (c) => {
      const form: Record<string, unknown> = await c.req.parseBody().catch(() => ({}));
      const token = typeof form.token === 'string' ? form.token : '';
      if (!knownToken(token)) return c.html(loginPage('That is not an operator token of this codec server.'), 401);
      const expires = now() + SESSION_SECONDS * 1000;
      setCookie(c, SESSION_COOKIE, `${expires}.${sessionMac(token, expires)}`, {
        httpOnly: true,
        path: '/',
        maxAge: SESSION_SECONDS,
        // Lax reaches the codec from a Web UI on the same site; across sites it takes None, which needs HTTPS.
        ...(secure(c) ? { secure: true, sameSite: 'None' } : { sameSite: 'Lax' }),
      });
      return c.html(loginPage('Signed in for 12 hours: the Temporal Web UI now shows payloads decoded (with "include cross-origin credentials" on).'));
    })
    .post('/logout', (c) => {
      deleteCookie(c, SESSION_COOKIE, { path: '/' });
      return c.html(loginPage('Signed out.'));
    });

  app.notFound(() => {
    throw new ProblemError(404, 'Not Found', 'the codec server answers POST /decode, POST /encode, GET /login and GET /healthz');
  });
  app.onError((err, c) => {
    const problem = err instanceof ProblemError ? err : new ProblemError(500, 'Internal Server Error', 'the codec server failed; see its log');
    if (problem.status >= 500) console.error(JSON.stringify({ level: 'error', message: 'codec request failed', path: c.req.path, error: String(err) }));
    return c.body(JSON.stringify(problem), problem.status as 400, { 'content-type': 'application/problem+json' });
  });
  return app;
}

function loginPage(message?: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Webhooks codec server</title>
<meta name="viewport" content="width=device-width, initial-scale=1"></head>
<body style="font-family: system-ui, sans-serif; max-width: 36rem; margin: 3rem auto; line-height: 1.5">
<h1>Webhooks codec server</h1>
<p>Operators sign in here once; the Temporal Web UI then shows event data, batch bodies and memos decrypted.</p>
${message ? `<p role="status"><strong>${message}</strong></p>` : ''}
<form method="post" action="/login">
<label>Operator token <input name="token" type="password" autocomplete="current-password" required></label>
<button type="submit">Sign in</button>
</form>
</body></html>`;
}
