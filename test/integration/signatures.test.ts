import { describe, expect, it } from 'vitest';
import { subscriptionWorkflowId, batchWorkflowId } from '../../workflows/ids';
import { useServerSuite, type ServerSuite } from '../support/suite';
import { eventually } from '../../harness/temporal';
import { signatureHeadersOf, verifyWithNpm, verifyWithPython, type SignedRequest } from '../support/verifiers';

/** Every string and payload in `value`, payload bytes read as UTF-8: what a reader of the stored history would see. */
function textOf(value: unknown): string {
  if (value instanceof Uint8Array) return Buffer.from(value).toString('utf8');
  if (Array.isArray(value)) return value.map(textOf).join('\n');
  if (value && typeof value === 'object') return Object.values(value).map(textOf).join('\n');
  return typeof value === 'string' ? value : '';
}

/**
 * Standard Webhooks signatures on real deliveries (a real dev server, worker and receiver), checked
 * with verifiers nobody here wrote: the standardwebhooks packages from npm and from PyPI.
 * DELIVERY_BACKOFF_SCALE 0.12: the first retry waits 3 s, time enough to rotate the secret between.
 */
describe('signed deliveries', () => {
  let s: ServerSuite;
  useServerSuite({ DELIVERY_BACKOFF_SCALE: '0.12' }, (suite) => (s = suite));

  it('signs every attempt so both verifiers accept it, across a retry and a rotation; the secret is in no history or memo', async () => {
    const created = await s.api('POST', '/v1/partners/signed/subscriptions', { url: s.receiver.url('/signed'), eventTypes: ['t'], batching: { windowMs: 1_000, maxEvents: 1 } });
    expect(created.status).toBe(201);
    const { id, signingSecret: first } = created.json as { id: string; signingSecret: string };
    expect(first).toMatch(/^whsec_/);
    // Reading the subscription never shows the secret again.
    expect(JSON.stringify((await s.api('GET', `/v1/partners/signed/subscriptions/${id}`)).json)).not.toContain('whsec_');

    // The first attempt fails; the secret is rotated before the retry.
    let failing = true;
    s.receiver.responder = (request) => (request.path === '/signed' && failing ? 503 : 200);
    expect((await s.api('POST', '/v1/partners/signed/events', { type: 't', data: { n: 1 } })).status).toBe(202);
    const firstAttempt = await eventually(() => s.receiver.requests.find((r) => r.path === '/signed'), 20_000, 'the first attempt');
    const rotation = await s.api('POST', `/v1/partners/signed/subscriptions/${id}/rotate-secret`);
    expect(rotation.status).toBe(200);
    const second = rotation.json.signingSecret as string;
    expect(second).not.toBe(first);
    expect(rotation.json.signing.generation).toBe(2);
    failing = false;
    const retry = await eventually(() => s.receiver.requests.filter((r) => r.path === '/signed')[1], 20_000, 'the retry');

    // A batch cut after the rotation.
    expect((await s.api('POST', '/v1/partners/signed/events', { type: 't', data: { n: 2 } })).status).toBe(202);
    const afterRotation = await eventually(() => s.receiver.requests.filter((r) => r.path === '/signed')[2], 20_000, 'the next batch');

    const signedBy = (secret: string, request: { body: string; headers: Record<string, string | string[] | undefined> }): SignedRequest => ({
      secret,
      body: request.body,
      headers: signatureHeadersOf(request.headers),
    });
    // The retry is the same message (webhook-id = batch_id), signed anew at its own time.
    expect(signatureHeadersOf(retry.headers)['webhook-id']).toBe(signatureHeadersOf(firstAttempt.headers)['webhook-id']);
    expect(signatureHeadersOf(retry.headers)['webhook-id']).toBe((JSON.parse(retry.body) as { batch_id: string }).batch_id);
    expect(signatureHeadersOf(firstAttempt.headers)['webhook-signature'].split(' ')).toHaveLength(1);
    expect(signatureHeadersOf(retry.headers)['webhook-signature'].split(' ')).toHaveLength(2);

    const accepted = [signedBy(first, firstAttempt), signedBy(first, retry), signedBy(second, retry), signedBy(first, afterRotation), signedBy(second, afterRotation)];
    const refused = [
      signedBy(second, firstAttempt), // before the rotation: the new secret did not exist
      { ...signedBy(second, afterRotation), body: afterRotation.body.replace('"n":2', '"n":3') },
      { ...signedBy(second, afterRotation), headers: { ...signatureHeadersOf(afterRotation.headers), 'webhook-timestamp': String(Math.floor(Date.now() / 1000) - 600) } },
    ];
    expect(accepted.map(verifyWithNpm)).toEqual(accepted.map(() => true));
    expect(refused.map(verifyWithNpm).filter((result) => result === true)).toEqual([]);
    expect(await verifyWithPython(accepted)).toEqual(accepted.map(() => true));
    expect((await verifyWithPython(refused)).filter((result) => result === true)).toEqual([]);

    // Nothing secret went to Temporal: not the secrets, not the signing key.
    const batchId = (JSON.parse(retry.body) as { batch_id: string }).batch_id;
    for (const workflowId of [subscriptionWorkflowId('signed', id), batchWorkflowId(batchId)]) {
      const handle = s.env.client.workflow.getHandle(workflowId);
      const stored = textOf(await handle.fetchHistory()) + JSON.stringify((await handle.describe()).memo);
      for (const secret of [first, second, first.slice(6), second.slice(6), s.config.signing.key!.toString('base64')]) expect(stored).not.toContain(secret);
      expect(stored).toContain('generation');
    }
  });

  it('answers 404 for rotating the secret of a subscription that is not there', async () => {
    expect((await s.api('POST', '/v1/partners/signed/subscriptions/00000000-0000-4000-8000-000000000000/rotate-secret')).status).toBe(404);
  });
});
