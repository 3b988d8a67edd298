import { createHmac } from 'node:crypto';
import type { SigningState } from './signing-state';

export * from './signing-state';

/**
 * Standard Webhooks signatures (standardwebhooks.com), decision 0008. Every subscription has a
 * signing secret, `whsec_` + base64 of 32 bytes, derived from WEBHOOK_SIGNING_KEY, its ids and its
 * secret generation: nothing secret is stored in Temporal, in clear or encrypted. Rotating makes
 * the next generation; the previous one keeps signing beside it until `previousUntil`.
 *
 * (Uses node:crypto: for the API and the activities, never for workflows.)
 */

/** The subscription's secret of `generation`, as the partner configures it in their verifier. */
export function subscriptionSecret(key: Buffer, partnerId: string, subscriptionId: string, generation: number): string {
  return `whsec_${secretBytes(key, partnerId, subscriptionId, generation).toString('base64')}`;
}

export interface SignInput {
  key: Buffer;
  partnerId: string;
  subscriptionId: string;
  signing: SigningState;
  /** `webhook-id`: the batch's id, the same on every attempt. */
  messageId: string;
  /** The attempt's time. */
  at: Date;
  /** The exact bytes sent. */
  body: string;
}

/**
 * The three Standard Webhooks headers for one attempt: `webhook-signature` carries `v1,` + base64
 * HMAC-SHA256 of `id.timestamp.body` under the current secret, and under the previous one too
 * while it still signs (space-separated, as the specification allows).
 */
export interface SignatureHeaders {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
}

export function signatureHeaders({ key, partnerId, subscriptionId, signing, messageId, at, body }: SignInput): SignatureHeaders {
  const timestamp = String(Math.floor(at.getTime() / 1000));
  const generations = [signing.generation];
  if (signing.generation > 1 && signing.previousUntil && at.getTime() < Date.parse(signing.previousUntil)) generations.push(signing.generation - 1);
  const signatures = generations.map((generation) => {
    const mac = createHmac('sha256', secretBytes(key, partnerId, subscriptionId, generation)).update(`${messageId}.${timestamp}.${body}`).digest('base64');
    return `v1,${mac}`;
  });
  return { 'webhook-id': messageId, 'webhook-timestamp': timestamp, 'webhook-signature': signatures.join(' ') };
}

function secretBytes(key: Buffer, partnerId: string, subscriptionId: string, generation: number): Buffer {
  return createHmac('sha256', key).update(`webhooks signing secret v1\0${partnerId}\0${subscriptionId}\0${generation}`).digest();
}
