import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { Agent } from 'undici';
import type { Config } from '../domain/config';

/** Timeouts of one attempt, each a failed attempt when it runs out (docs/delivery.md). */
export const CONNECT_TIMEOUT_MS = 10_000;
export const HEADERS_TIMEOUT_MS = 30_000;
export const BODY_TIMEOUT_MS = 10_000;
export const CONNECTIONS_PER_ORIGIN = 32;

/**
 * One keep-alive agent per worker process. It presents the client certificate (mTLS) and trusts
 * the system's CAs plus WEBHOOK_CA_CERT for partners' server certificates.
 */
export function createDeliveryAgent(delivery: Config['delivery']): Agent {
  const read = (file: string | undefined) => (file ? readFileSync(file, 'utf8') : undefined);
  const extraCa = read(delivery.caCertFile);
  return new Agent({
    connections: CONNECTIONS_PER_ORIGIN,
    keepAliveTimeout: 30_000,
    headersTimeout: HEADERS_TIMEOUT_MS,
    bodyTimeout: BODY_TIMEOUT_MS,
    connect: {
      timeout: CONNECT_TIMEOUT_MS,
      cert: read(delivery.clientCertFile),
      key: read(delivery.clientKeyFile),
      ca: extraCa ? [...rootCertificates, extraCa] : undefined,
      rejectUnauthorized: true,
    },
  });
}
