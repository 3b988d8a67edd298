/**
 * The production stack's setup step: registers the namespace (if missing) and the project's custom
 * search attributes on a Temporal cluster. Idempotent. Connects like the worker and the API
 * (Temporal's environment configuration: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_TLS_*, …).
 * Usage: TEMPORAL_ADDRESS=host:7233 TEMPORAL_NAMESPACE=default node --import tsx scripts/ops/register-search-attributes.ts
 */
import { Connection, type ConnectionOptions } from '@temporalio/client';
import { exitOnStartError, loadConfig } from '../../platform/config';
import { setUpNamespace } from './temporal-setup';

async function main(): Promise<void> {
  const { temporal } = loadConfig();
  const connection = await connectWithin(temporal.connection, 120_000);
  try {
    const added = await setUpNamespace(connection, temporal.namespace);
    console.log(`search attributes: registered ${added.join(', ') || 'nothing new'} in ${temporal.namespace}`);
  } finally {
    await connection.close();
  }
}

/** In a stack that is still starting, the frontend may not listen yet: keep trying for a while. */
async function connectWithin(options: ConnectionOptions, timeoutMs: number): Promise<Connection> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      return await Connection.connect({ ...options, connectTimeout: 5_000 });
    } catch (err) {
      if (Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 1_000));
    }
  }
}

main().catch((err: unknown) => exitOnStartError('register-search-attributes', err));
