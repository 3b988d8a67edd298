import { defaultPayloadConverter, type Payload } from '@temporalio/common';
import { describe, expect, it } from 'vitest';
import { createCodecApp, SESSION_COOKIE, tokenFingerprint, type CodecAuditEntry } from '../../codec/app';
import { KeyRing, newKeyEntry } from '../../codec/key-ring';
import { EncryptionCodec } from '../../codec/payload-codec';

/** The codec server's protocol as the Temporal Web UI and CLI speak it, and who may use it. */
const uiOrigin = 'http://127.0.0.1:8233';
const operatorToken = 'operator-token-0123456789';
const codec = new EncryptionCodec(KeyRing.fromText(newKeyEntry('k1')));
const audited: CodecAuditEntry[] = [];
const app = createCodecApp({ codec, auth: 'token', tokens: [operatorToken], corsOrigins: [uiOrigin], audit: (entry) => audited.push(entry) });

const asJson = (p: Payload) => ({
  metadata: Object.fromEntries(Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')])),
  data: Buffer.from(p.data ?? []).toString('base64'),
});
const fromJson = (p: { metadata: Record<string, string>; data: string }): Payload => ({
  metadata: Object.fromEntries(Object.entries(p.metadata).map(([k, v]) => [k, Buffer.from(v, 'base64')])),
  data: Buffer.from(p.data, 'base64'),
});
const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
  app.request(path, { method: 'POST', headers: { 'content-type': 'application/json', 'x-namespace': 'default', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });

describe('the codec server', () => {
  it('decodes what the worker encrypted and encodes what the UI sends, for an operator token', async () => {
    const encrypted = await codec.encode([defaultPayloadConverter.toPayload({ email: 'zoe@example.com' })]);
    const decoded = await post('/decode', { payloads: encrypted.map(asJson) }, { authorization: `Bearer ${operatorToken}`, origin: uiOrigin });
    expect(decoded.status).toBe(200);
    expect(decoded.headers.get('access-control-allow-origin')).toBe(uiOrigin);
    expect(decoded.headers.get('access-control-allow-credentials')).toBe('true');
    const { payloads } = (await decoded.json()) as { payloads: { metadata: Record<string, string>; data: string }[] };
    expect(payloads.map((p) => defaultPayloadConverter.fromPayload(fromJson(p)))).toEqual([{ email: 'zoe@example.com' }]);

    const encoded = await post('/encode', { payloads: [asJson(defaultPayloadConverter.toPayload('from the UI'))] }, { authorization: `Bearer ${operatorToken}` });
    const back = ((await encoded.json()) as { payloads: { metadata: Record<string, string>; data: string }[] }).payloads.map(fromJson);
    expect(Buffer.from(back[0]!.metadata!.encoding!).toString()).toBe('binary/encrypted');
    expect((await codec.decode(back)).map((p) => defaultPayloadConverter.fromPayload(p))).toEqual(['from the UI']);
  });

  it('answers the Web UI\'s preflight for its origin only', async () => {
    const preflight = (origin: string) =>
      app.request('/decode', { method: 'OPTIONS', headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'content-type,x-namespace' } });
    const allowed = await preflight(uiOrigin);
    expect(allowed.status).toBe(204);
    expect(allowed.headers.get('access-control-allow-origin')).toBe(uiOrigin);
    expect(allowed.headers.get('access-control-allow-headers')?.toLowerCase()).toContain('x-namespace');
    const other = await preflight('https://evil.example');
    expect(other.headers.get('access-control-allow-origin')).toBeNull();
    // And a page on another origin that sends the operator's cookie anyway is refused outright.
    const refused = await post('/decode', { payloads: [] }, { origin: 'https://evil.example', authorization: `Bearer ${operatorToken}` });
    expect(refused.status).toBe(403);
    expect(refused.headers.get('content-type')).toBe('application/problem+json');
  });

  it('refuses callers without an operator credential, and lets an operator sign in for a session cookie', async () => {
    const anonymous = await post('/decode', { payloads: [] }, { origin: uiOrigin });
    expect(anonymous.status).toBe(401);
    expect(await anonymous.json()).toMatchObject({ status: 401, title: 'Unauthorized' });
    expect((await post('/decode', { payloads: [] }, { authorization: 'Bearer not-an-operator-token' })).status).toBe(401);

    const wrong = await app.request('/login', { method: 'POST', body: new URLSearchParams({ token: 'guess-guess-guess-guess' }) });
    expect(wrong.status).toBe(401);
    expect(wrong.headers.get('set-cookie')).toBeNull();
    const signedIn = await app.request('/login', { method: 'POST', body: new URLSearchParams({ token: operatorToken }) });
    expect(signedIn.status).toBe(200);
    const cookie = signedIn.headers.get('set-cookie')!;
    expect(cookie).toMatch(new RegExp(`^${SESSION_COOKIE}=\\d+\\.[\\w-]+; Max-Age=43200; Path=/; HttpOnly; SameSite=Lax`));
    const withSession = await post('/decode', { payloads: [] }, { origin: uiOrigin, cookie: cookie.split(';')[0]! });
    expect(withSession.status).toBe(200);
    expect(audited.at(-1)).toEqual({ action: 'decode', operator: tokenFingerprint(operatorToken), via: 'session', payloads: 0, namespace: 'default', origin: uiOrigin, status: 200 });
    const forged = cookie.split(';')[0]!.replace(/\.[\w-]+$/, '.AAAA');
    expect((await post('/decode', { payloads: [] }, { cookie: forged })).status).toBe(401);
  });

  it('records who decoded and encoded how many payloads, naming the operator by a fingerprint of the token', async () => {
    audited.length = 0;
    const encrypted = await codec.encode([defaultPayloadConverter.toPayload(1), defaultPayloadConverter.toPayload(2)]);
    await post('/decode', { payloads: encrypted.map(asJson) }, { authorization: `Bearer ${operatorToken}` });
    await post('/encode', { payloads: [asJson(defaultPayloadConverter.toPayload(3))] }, { authorization: `Bearer ${operatorToken}`, origin: uiOrigin });
    await post('/decode', { payloads: [] }, { authorization: 'Bearer not-an-operator-token' });
    expect(audited).toEqual([
      { action: 'decode', operator: tokenFingerprint(operatorToken), via: 'bearer', payloads: 2, namespace: 'default', origin: undefined, status: 200 },
      { action: 'encode', operator: tokenFingerprint(operatorToken), via: 'bearer', payloads: 1, namespace: 'default', origin: uiOrigin, status: 200 },
    ]);
    expect(JSON.stringify(audited)).not.toContain(operatorToken);
  });

  it('answers bad input with problem+json, and a payload under an unknown key with the key it needs', async () => {
    const auth = { authorization: `Bearer ${operatorToken}` };
    for (const body of ['not json', { payloads: 'no' }, { payloads: [{ data: '%%%' }] }]) {
      const response = await post('/decode', body, auth);
      expect(response.status).toBe(400);
      expect(response.headers.get('content-type')).toBe('application/problem+json');
    }
    const foreign = await new EncryptionCodec(KeyRing.fromText(newKeyEntry('elsewhere'))).encode([defaultPayloadConverter.toPayload(1)]);
    const unknown = await post('/decode', { payloads: foreign.map(asJson) }, auth);
    expect(unknown.status).toBe(422);
    expect(((await unknown.json()) as { detail: string }).detail).toBe('a payload is encrypted with key elsewhere, which is not in the key ring (PAYLOAD_KEYS: k1)');
  });

  it('asks nothing of callers when configured without auth (loopback development stacks)', async () => {
    const open = createCodecApp({ codec, auth: 'none', tokens: [], corsOrigins: [uiOrigin] });
    const encrypted = await codec.encode([defaultPayloadConverter.toPayload('dev')]);
    const response = await open.request('/decode', { method: 'POST', headers: { 'content-type': 'application/json', origin: uiOrigin }, body: JSON.stringify({ payloads: encrypted.map(asJson) }) });
    expect(response.status).toBe(200);
  });
});
