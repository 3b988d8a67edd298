import { readFileSync, statSync } from 'node:fs';
import { createSecureContext, rootCertificates } from 'node:tls';
import { Agent, type Dispatcher } from 'undici';
import type { Config } from '../platform/config';
import { guardedLookup, type Resolver } from '../platform/endpoint-resolver';

/** Timeouts of one attempt, each a failed attempt when it runs out (docs/delivery.md). */
export interface AttemptTimeouts {
  connectMs: number;
  headersMs: number;
  /** Between two chunks of the response body. */
  bodyMs: number;
}
export const DEFAULT_TIMEOUTS: AttemptTimeouts = { connectMs: 10_000, headersMs: 30_000, bodyMs: 10_000 };
export const CONNECTIONS_PER_ORIGIN = 32;

export interface DeliveryAgentOptions {
  delivery: Config['delivery'];
  timeouts?: AttemptTimeouts;
  /** DNS resolution; tests inject one that answers chosen (private) addresses. */
  resolver?: Resolver;
  log?: (message: string) => void;
}

/**
 * The worker's HTTP client: one keep-alive undici agent that presents the client certificate
 * (mTLS), trusts the system's CAs plus WEBHOOK_CA_CERT, and connects only to addresses the
 * endpoint policy allows. Certificate files are checked on every use: when they change (a
 * rotation), the next attempt gets a fresh agent with the new certificate, without a restart.
 */
export class DeliveryAgent {
  private agent: Agent;
  private fingerprint: string;

  constructor(private readonly options: DeliveryAgentOptions) {
    this.fingerprint = this.filesFingerprint();
    this.agent = this.build();
  }

  /** The agent for the next attempt, rebuilt first if a certificate file changed. */
  dispatcher(): Dispatcher {
    const current = this.filesFingerprint();
    if (current !== this.fingerprint) {
      try {
        const next = this.build();
        const previous = this.agent;
        this.agent = next;
        this.fingerprint = current;
        void previous.close();
        this.options.log?.('delivery: certificate files changed; new connections use them');
      } catch (err) {
        // A rotation caught half-way (new certificate, old key): keep the working agent, look again next time.
        this.options.log?.(`delivery: certificate files changed but do not load yet (${(err as Error).message})`);
      }
    }
    return this.agent;
  }

  async close(): Promise<void> {
    await this.agent.close();
  }

  private files(): string[] {
    const { clientCertFile, clientKeyFile, caCertFile } = this.options.delivery;
    return [clientCertFile, clientKeyFile, caCertFile].filter((file): file is string => Boolean(file));
  }

  private filesFingerprint(): string {
    return this.files()
      .map((file) => {
        try {
          const { mtimeMs, size, ino } = statSync(file);
          return `${file}:${mtimeMs}:${size}:${ino}`;
        } catch {
          return `${file}:missing`;
        }
      })
      .join('|');
  }

  private build(): Agent {
    const { delivery, timeouts = DEFAULT_TIMEOUTS, resolver } = this.options;
    const read = (file: string | undefined) => (file ? readFileSync(file, 'utf8') : undefined);
    const cert = read(delivery.clientCertFile);
    const key = read(delivery.clientKeyFile);
    const extraCa = read(delivery.caCertFile);
    const ca = extraCa ? [...rootCertificates, extraCa] : undefined;
    // Throws here, not at the first connection, when the certificate and key do not match.
    createSecureContext({ cert, key, ca });
    return new Agent({
      connections: CONNECTIONS_PER_ORIGIN,
      keepAliveTimeout: 30_000,
      headersTimeout: timeouts.headersMs,
      bodyTimeout: timeouts.bodyMs,
      connect: {
        timeout: timeouts.connectMs,
        cert,
        key,
        ca,
        rejectUnauthorized: true,
        lookup: guardedLookup(delivery, resolver),
      },
    });
  }
}
