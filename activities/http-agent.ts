import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { Agent } from 'undici';
import type { Config } from '../domain/config';

/** Timeouts of one attempt, each a failed attempt when it runs out (docs/delivery.md). */
export interface AttemptTimeouts {
  connectMs: number;
  headersMs: number;
  /** Between two chunks of the response body. */
  bodyMs: number;
}
export const DEFAULT_TIMEOUTS: AttemptTimeouts = { connectMs: 10_000, headersMs: 30_000, bodyMs: 10_000 };
export const CONNECTIONS_PER_ORIGIN = 32;

/**
 * One keep-alive agent per worker process. It presents the client certificate (mTLS) and trusts
 * the system's CAs plus WEBHOOK_CA_CERT for partners' server certificates.
 */
export function createDeliveryAgent(delivery: Config['delivery'], timeouts: AttemptTimeouts = DEFAULT_TIMEOUTS): Agent {
  const read = (file: string | undefined) => (file ? readFileSync(file, 'utf8') : undefined);
  const extraCa = read(delivery.caCertFile);
  return new Agent({
    connections: CONNECTIONS_PER_ORIGIN,
    keepAliveTimeout: 30_000,
    headersTimeout: timeouts.headersMs,
    bodyTimeout: timeouts.bodyMs,
    connect: {
      timeout: timeouts.connectMs,
      cert: read(delivery.clientCertFile),
      key: read(delivery.clientKeyFile),
      ca: extraCa ? [...rootCertificates, extraCa] : undefined,
      rejectUnauthorized: true,
    },
  });
}
