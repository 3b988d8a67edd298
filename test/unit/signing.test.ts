import { describe, expect, it } from 'vitest';
import { INITIAL_SIGNING, PREVIOUS_SECRET_MS, rotated, signatureHeaders, subscriptionSecret, type SigningState } from '../../domain/signing';
import { verifyWithNpm, verifyWithPython } from '../support/verifiers';

const key = Buffer.alloc(32, 7);
const body = '{"batch_id":"b-1","count":1,"events":[{"id":"e-1","type":"t","data":{"n":1}}]}';

function signed(signing: SigningState, at = new Date(), message = { body }) {
  return signatureHeaders({ key, partnerId: 'acme', subscriptionId: 's-1', signing, messageId: 'b-1', at, body: message.body });
}
const secret = (generation: number) => subscriptionSecret(key, 'acme', 's-1', generation);

describe('Standard Webhooks signatures', () => {
  it('writes secrets as whsec_ + base64 of 32 bytes, one per subscription and generation', () => {
    expect(secret(1)).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(secret(1).slice(6), 'base64')).toHaveLength(32);
    expect(new Set([secret(1), secret(2), subscriptionSecret(key, 'acme', 's-2', 1), subscriptionSecret(key, 'other', 's-1', 1), subscriptionSecret(Buffer.alloc(32, 8), 'acme', 's-1', 1)]).size).toBe(5);
  });

  it('signs id.timestamp.body so that the npm and PyPI standardwebhooks packages verify it, and refuse a tampered body or a stale timestamp', async () => {
    const headers = signed(INITIAL_SIGNING);
    expect(headers['webhook-id']).toBe('b-1');
    expect(Number(headers['webhook-timestamp'])).toBeCloseTo(Date.now() / 1000, -1);
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    const good = { secret: secret(1), body, headers };
    const tampered = { ...good, body: body.replace('"n":1', '"n":2') };
    const stale = { ...good, headers: signed(INITIAL_SIGNING, new Date(Date.now() - 10 * 60 * 1000)) };
    const wrongSecret = { ...good, secret: secret(2) };
    expect(verifyWithNpm(good)).toBe(true);
    for (const bad of [tampered, stale, wrongSecret]) expect(verifyWithNpm(bad)).not.toBe(true);
    const python = await verifyWithPython([good, tampered, stale, wrongSecret]);
    expect(python[0]).toBe(true);
    expect(python.slice(1).filter((result) => result === true)).toEqual([]);
  });

  it('after a rotation, signs with both secrets for 24 hours, then with the new one only', async () => {
    const now = new Date();
    const signing = rotated(INITIAL_SIGNING, now);
    expect(signing).toEqual({ generation: 2, previousUntil: new Date(now.getTime() + PREVIOUS_SECRET_MS).toISOString() });
    const both = signed(signing, now);
    expect(both['webhook-signature'].split(' ')).toHaveLength(2);
    const checks = [secret(1), secret(2)].map((s) => ({ secret: s, body, headers: both }));
    expect(checks.map(verifyWithNpm)).toEqual([true, true]);
    expect(await verifyWithPython(checks)).toEqual([true, true]);
    // A day later (the receiver's clock moved too, so its tolerance is not what refuses it).
    const later = signed(signing, new Date(now.getTime() + PREVIOUS_SECRET_MS + 1000));
    expect(later['webhook-signature'].split(' ')).toHaveLength(1);
    const oldSignature = signed({ generation: 1, previousUntil: null }, new Date(now.getTime() + PREVIOUS_SECRET_MS + 1000))['webhook-signature'];
    expect(later['webhook-signature']).not.toBe(oldSignature);
  });
});
