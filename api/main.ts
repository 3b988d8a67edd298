import { serve } from '@hono/node-server';
import { Client, Connection } from '@temporalio/client';
import { loadConfig } from '../domain/config';
import { createApp } from './app';

/** The API process: refuses to start without API_TOKEN; stops gracefully on SIGINT/SIGTERM. */
function main(): void {
  const config = loadConfig();
  if (!config.api.token) {
    console.error('api: API_TOKEN is not set; refusing to start (npm run dev makes one for development)');
    process.exit(2);
  }
  // Lazy: the API starts even while Temporal is down, and /healthz answers 503 until it is reachable.
  const connection = Connection.lazy({ address: config.temporal.address });
  const client = new Client({ connection, namespace: config.temporal.namespace });
  const tokens = [{ role: 'admin' as const, token: config.api.token }, ...config.api.extraTokens];
  const app = createApp({ client, config, tokens });
  const server = serve({ fetch: app.fetch, hostname: config.api.host, port: config.api.port }, (info) => {
    console.log(`api: listening on http://${info.address}:${info.port}`);
  });

  const stop = (signal: string) => {
    console.log(`api: ${signal} received, closing`);
    server.close(() => {
      void connection.close().finally(() => process.exit(0));
    });
    setTimeout(() => process.exit(0), 5_000).unref();
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
}

try {
  main();
} catch (err) {
  console.error('api: fatal:', err);
  process.exit(1);
}
