import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TemporalCluster, type ClusterPorts } from '../../scripts/temporal-cluster';
import { startDevServer } from './temporal';

/**
 * A real Temporal cluster for a test (scripts/temporal-cluster.ts, as `npm run cluster` starts it:
 * PostgreSQL, four services, mTLS frontend) on free ports in a folder of its own, removed after.
 */
export interface TestCluster {
  cluster: TemporalCluster;
  teardown(): Promise<void>;
}

export async function startTestCluster({ ui = false, namespace = 'default', reuse }: { ui?: boolean; namespace?: string; reuse?: TemporalCluster } = {}): Promise<TestCluster> {
  // `reuse`: a stopped cluster's folder and ports, to start it again on its data.
  const dir = reuse?.options.dataDir ?? mkdtempSync(join(tmpdir(), 'webhooks-cluster-'));
  const clusterPorts = reuse?.options.ports ?? (await testPorts(ui));
  const cluster = await TemporalCluster.start({ dataDir: dir, ports: clusterPorts, namespace });
  // If the test runner dies, the cluster goes with it.
  process.once('exit', cluster.killAll);
  return {
    cluster,
    async teardown() {
      process.off('exit', cluster.killAll);
      await cluster.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

async function testPorts(ui: boolean): Promise<ClusterPorts> {
  const [frontend, frontendHttp, history, matching, worker, frontendMembership, historyMembership, matchingMembership, workerMembership, postgres, uiPort = 0] = (await freePorts(
    ui ? 11 : 10,
  )) as [number, number, number, number, number, number, number, number, number, number, number?];
  return { frontend, frontendHttp, history, matching, worker, frontendMembership, historyMembership, matchingMembership, workerMembership, postgres, ui: uiPort };
}

/**
 * Free ports below 32768: Temporal stores membership ports in a PostgreSQL smallint, so the
 * kernel's ephemeral ports (above 32768 here) are refused there.
 */
export async function freePorts(count: number): Promise<number[]> {
  const ports = new Set<number>();
  while (ports.size < count) {
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    if (await isFree(port)) ports.add(port);
  }
  return [...ports];
}

export function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

/** A Temporal server for end-to-end tests, and the environment our processes need to reach it. */
export interface TemporalBackend {
  name: string;
  start(): Promise<{ env: Record<string, string>; teardown(): Promise<void> }>;
}

export const devServerBackend: TemporalBackend = {
  name: 'the dev server',
  async start() {
    const server = await startDevServer();
    return { env: { TEMPORAL_ADDRESS: server.address }, teardown: () => server.teardown() };
  },
};

export const clusterBackend: TemporalBackend = {
  name: 'a Temporal cluster (PostgreSQL, four services, mTLS)',
  async start() {
    const test = await startTestCluster();
    return { env: test.cluster.clientEnv(), teardown: () => test.teardown() };
  },
};
