import { serve } from '@hono/node-server';
import { Client, Connection } from '@temporalio/client';
import { exitOnStartError, loadConfig } from '../platform/config';
import { searchAttributeFlags } from '../workflows/search-attributes';
import { createApp } from './app';
import { logJson } from '../platform/log';

/**
 * The API process: refuses to start without API_TOKEN. On SIGINT/SIGTERM it turns /readyz to
 * 503, stops accepting connections, lets in-flight requests finish (an event request answers only
 * once Temporal recorded its events), then exits.
 */
function main(): void {
  const config = loadConfig();
  if (!config.api.token) {
    console.error('api: API_TOKEN is not set; refusing to start (npm run dev makes one for development)');
    process.exit(2);
  }
  // Lazy: the API starts even while Temporal is down, and /healthz answers 503 until it is reachable.
  const connection = Connection.lazy(config.temporal.connection);
  const client = new Client({ connection, namespace: config.temporal.namespace, dataConverter: config.temporal.dataConverter });
  let stopping = false;
  const tokens = [{ role: 'admin' as const, token: config.api.token }, ...config.api.extraTokens];
  const app = createApp({ client, config, tokens, isStopping: () => stopping });
  const server = serve({ fetch: app.fetch, hostname: config.api.host, port: config.api.port }, (info) => {
    logJson('info', 'api: listening', { url: `http://${info.address}:${info.port}`, temporal: config.temporal.address, security: config.temporal.security, encryption: config.encryption.describe });
  });
  void warnOfMissingSearchAttributes(connection, config.temporal.namespace);

  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logJson('info', 'api: stopping', { signal });
    server.close(() => {
      void connection.close().finally(() => process.exit(0));
    });
    // Keep-alive connections idle between requests would hold close() open: end them.
    (server as unknown as { closeIdleConnections?: () => void }).closeIdleConnections?.();
    setTimeout(() => process.exit(0), 15_000).unref();
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

/**
 * Says at start, once Temporal answers, which of the project's search attributes the namespace
 * lacks (an upgrade that added one, on a cluster or Temporal Cloud set up before it): without
 * them creating or changing a subscription fails. Where listing them is not allowed, says nothing.
 */
async function warnOfMissingSearchAttributes(connection: Connection, namespace: string): Promise<void> {
  for (;;) {
    try {
      const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
      const missing = searchAttributeFlags.map((flag) => flag.split('=')[0]!).filter((name) => !(name in (customAttributes ?? {})));
      if (missing.length > 0) {
        logJson('error', `api: namespace ${namespace} lacks the search attributes ${missing.join(', ')}; creating and changing subscriptions fails until they are registered: node --import tsx scripts/ops/register-search-attributes.ts`, { missing });
      }
      return;
    } catch (err) {
      const code = (err as { code?: number }).code;
      // Temporal not up yet, or a namespace so new that not every service knows it yet.
      if (code === UNAVAILABLE || code === DEADLINE_EXCEEDED || code === NOT_FOUND) {
        await new Promise((resolve) => setTimeout(resolve, 5_000));
        continue;
      }
      return; // not allowed to list them (a Temporal Cloud API key without the right), or not offered
    }
  }
}
const NOT_FOUND = 5;
const UNAVAILABLE = 14;
const DEADLINE_EXCEEDED = 4;

try {
  main();
} catch (err) {
  exitOnStartError('api', err);
}
