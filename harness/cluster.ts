import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePortsBelow32768 } from './processes';
import { TemporalCluster, type ClusterOptions, type ClusterPorts } from '../scripts/dev/temporal-cluster';

/**
 * A real Temporal cluster for a test (scripts/dev/temporal-cluster.ts, as `npm run cluster` starts it:
 * PostgreSQL, four services, mTLS frontend) on free ports in a folder of its own, removed after.
 */
export interface TestCluster {
  cluster: TemporalCluster;
  teardown(): Promise<void>;
}

export async function startTestCluster({
  ui = false,
  namespace = 'default',
  reuse,
  codec,
}: { ui?: boolean; namespace?: string; reuse?: TemporalCluster; codec?: Pick<ClusterOptions, 'codecEndpoint' | 'codecIncludeCredentials'> } = {}): Promise<TestCluster> {
  // `reuse`: a stopped cluster's folder and ports, to start it again on its data.
  const dir = reuse?.options.dataDir ?? mkdtempSync(join(tmpdir(), 'webhooks-cluster-'));
  const clusterPorts = reuse?.options.ports ?? (await testPorts(ui));
  const cluster = await TemporalCluster.start({ dataDir: dir, ports: clusterPorts, namespace, ...codec });
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
  const [frontend, frontendHttp, history, matching, worker, frontendMembership, historyMembership, matchingMembership, workerMembership, postgres, uiPort = 0] = (await freePortsBelow32768(
    ui ? 11 : 10,
  )) as [number, number, number, number, number, number, number, number, number, number, number?];
  return { frontend, frontendHttp, history, matching, worker, frontendMembership, historyMembership, matchingMembership, workerMembership, postgres, ui: uiPort };
}

/**
 * Whether `marker` is in `store` in any form a reader could decode without a key: its bytes, in
 * hex (how pg_dump prints binary columns), or in base64 (how JSON carries bytes) at each alignment.
 */
export function holdsInClear(store: Buffer, marker: string): boolean {
  const bytes = Buffer.from(marker);
  const forms = [bytes, Buffer.from(bytes.toString('hex')), Buffer.from(bytes.toString('hex').toUpperCase())];
  for (let shift = 0; shift < 3; shift++) {
    // The base64 of the marker shifted by `shift` bytes, without the characters that depend on its neighbours.
    const encoded = Buffer.concat([Buffer.alloc(shift), bytes]).toString('base64');
    forms.push(Buffer.from(encoded.slice(shift === 0 ? 0 : shift + 1, -4)));
  }
  return forms.some((form) => store.includes(form));
}
