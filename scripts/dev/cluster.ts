/**
 * `npm run cluster`: the whole stack on a real Temporal cluster (scripts/dev/temporal-cluster.ts):
 * PostgreSQL, the four Temporal services as separate processes behind a mutual-TLS frontend, the
 * Web UI, then the worker and the API connected with the cluster's client certificate. Same
 * variables and summary as `npm run dev`; data under DATA_DIR/cluster (default .data/cluster) survives a restart. Ctrl-C stops
 * the UI, the API and the worker, then Temporal's services, then PostgreSQL.
 */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfigOrExit, type Config } from '../../platform/config';
import { apiUrlOf, applicationPorts, codecServerEnv, printSummary, splitHostPort, stackPayloadKeys, startApplication, Supervisor } from './supervisor';
import { ClusterPortError, defaultPorts, TemporalCluster, type ClusterPorts, type ClusterProcess } from './temporal-cluster';

const root = fileURLToPath(new URL('../..', import.meta.url));
/** Stop order, highest first: the UI, our processes, the frontend and the system worker, history and matching, PostgreSQL. */
const tierOf: Record<ClusterProcess, number> = { ui: 4, frontend: 2, worker: 2, history: 1, matching: 1, postgres: 0 };
const APPLICATION_TIER = 3;

/** The cluster's ports from TEMPORAL_ADDRESS and TEMPORAL_UI_PORT; a port they cannot give ends the command in one line (exit 2), before anything starts. */
function clusterPortsOrExit(config: Config): ClusterPorts {
  try {
    return defaultPorts(Number(splitHostPort(config.temporal.address)[1] || 7233), config.temporal.uiPort);
  } catch (err) {
    if (!(err instanceof ClusterPortError)) throw err;
    console.error(`cluster: ${err.message}`);
    process.exit(2);
  }
}

async function main(supervisor: Supervisor, config: Config, ports: ClusterPorts): Promise<void> {
  const token = config.api.token ?? randomBytes(24).toString('base64url');
  const dataDir = join(config.dataDir, 'cluster');
  const uiPort = config.temporal.uiPort;
  await supervisor.claim('cluster', dataDir, [
    ...(Object.entries(ports) as [string, number][]).map(([name, port]) => ({ host: '127.0.0.1', port, variable: name === 'ui' ? 'TEMPORAL_UI_PORT' : 'TEMPORAL_ADDRESS' })),
    ...applicationPorts(config),
  ]);
  const keys = stackPayloadKeys(config, dataDir);
  const codec = codecServerEnv(config, [`http://127.0.0.1:${uiPort}`, `http://localhost:${uiPort}`]);
  const cluster = await TemporalCluster.start({
    dataDir,
    codecEndpoint: codec.url,
    ports,
    namespace: config.temporal.namespace,
    spawn: (name, command, args, options) => supervisor.start(`temporal-${name}`, command, args, tierOf[name], options),
    log: (line) => console.log(`[cluster] ${line}`),
  });
  if (supervisor.isStopping) return;
  await startApplication(supervisor, config, token, { ...cluster.clientEnv(), ...keys.env }, APPLICATION_TIER, codec);
  if (supervisor.isStopping) return;
  printSummary({
    apiUrl: apiUrlOf(config),
    uiUrl: cluster.uiUrl ?? '(off)',
    temporal: `${cluster.address} (namespace ${config.temporal.namespace}; mTLS, client certificate ${cluster.certs.clientCert})`,
    token,
    tokenFromEnv: Boolean(config.api.token),
    data: `${dataDir} (PostgreSQL, certificates)`,
    codecUrl: codec.url,
    payloadKeys: keys.source,
  });
}

const config = loadConfigOrExit('cluster');
const ports = clusterPortsOrExit(config);
const supervisor = new Supervisor(root);
main(supervisor, config, ports).catch(async (err: unknown) => {
  console.error(`cluster: failed to start: ${(err as Error).message ?? err}`);
  await supervisor.shutdown(1);
});
