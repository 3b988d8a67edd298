/**
 * The development stack in one process tree: Temporal's dev server (SQLite on disk under DATA_DIR, default .data/,
 * so subscriptions and batches survive a restart), the worker and the API. Ctrl-C or SIGTERM stops
 * the API and the worker first, then the server.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Connection } from '@temporalio/client';
import { loadConfigOrExit, type Config } from '../../platform/config';
import { apiUrlOf, applicationPorts, codecServerEnv, printSummary, splitHostPort, stackPayloadKeys, startApplication, Supervisor } from './supervisor';
import { devServerArgs, temporalCli } from './temporal-dev-server';

const root = fileURLToPath(new URL('../..', import.meta.url));

async function main(supervisor: Supervisor, config: Config): Promise<void> {
  const token = config.api.token ?? randomBytes(24).toString('base64url');
  const [temporalHost = '127.0.0.1', temporalPort = '7233'] = splitHostPort(config.temporal.address);
  const { dataDir } = config;
  mkdirSync(dataDir, { recursive: true });
  await supervisor.claim('dev', dataDir, [
    { host: temporalHost, port: Number(temporalPort), variable: 'TEMPORAL_ADDRESS' },
    { host: temporalHost, port: config.temporal.uiPort, variable: 'TEMPORAL_UI_PORT' },
    ...applicationPorts(config),
  ]);
  const keys = stackPayloadKeys(config, dataDir);
  const uiPort = config.temporal.uiPort;
  const codec = codecServerEnv(config, [...new Set([temporalHost, 'localhost', '127.0.0.1'])].map((host) => `http://${host}:${uiPort}`));
  const serverArgs = devServerArgs({
    ip: temporalHost,
    port: Number(temporalPort),
    uiPort: config.temporal.uiPort,
    dbFile: `${dataDir}/temporal.sqlite`,
    namespace: config.temporal.namespace,
    codecEndpoint: codec.url,
  });
  supervisor.start('temporal', temporalCli, serverArgs, 0);
  await supervisor.waitFor('Temporal', async () => {
    const connection = await Connection.connect({ ...config.temporal.connection, connectTimeout: 1_000 });
    await connection.close();
    return true;
  });
  await startApplication(supervisor, config, token, keys.env, 1, codec);
  if (supervisor.isStopping) return;
  printSummary({
    apiUrl: apiUrlOf(config),
    uiUrl: `http://${temporalHost}:${config.temporal.uiPort}`,
    temporal: `${config.temporal.address} (namespace ${config.temporal.namespace})`,
    token,
    tokenFromEnv: Boolean(config.api.token),
    data: `${dataDir}/temporal.sqlite`,
    codecUrl: codec.url,
    payloadKeys: keys.source,
  });
}

const config = loadConfigOrExit('dev');
const supervisor = new Supervisor(root);
main(supervisor, config).catch(async (err: unknown) => {
  console.error('dev: failed to start:', err);
  await supervisor.shutdown(1);
});
