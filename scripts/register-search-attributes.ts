/**
 * The production stack's setup step: registers the namespace (if missing) and the project's custom
 * search attributes on a Temporal cluster. Idempotent. Connects like the worker and the API
 * (Temporal's environment configuration: TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, TEMPORAL_TLS_*, …).
 * Usage: TEMPORAL_ADDRESS=host:7233 TEMPORAL_NAMESPACE=default node --import tsx scripts/register-search-attributes.ts
 */
import { Connection } from '@temporalio/client';
import { exitOnStartError, loadConfig } from '../domain/config';
import { setUpNamespace } from './temporal-setup';

async function main(): Promise<void> {
  const { temporal } = loadConfig();
  const connection = await Connection.connect(temporal.connection);
  try {
    const added = await setUpNamespace(connection, temporal.namespace);
    console.log(`search attributes: registered ${added.join(', ') || 'nothing new'} in ${temporal.namespace}`);
  } finally {
    await connection.close();
  }
}

main().catch((err: unknown) => exitOnStartError('register-search-attributes', err));
