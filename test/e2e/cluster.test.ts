import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { Client, Connection, type ConnectionOptions } from '@temporalio/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeCa, makeLeaf } from '../../scripts/dev/certs';
import { FRONTEND_SERVER_NAME, temporalServices } from '../../scripts/dev/temporal-cluster';
import { startTestCluster, type TestCluster } from '../../harness/cluster';
import { startProjectProcess } from '../../harness/processes';
import { temporalCliPath } from '../../harness/temporal';

const run = promisify(execFile);

/**
 * The cluster `npm run cluster` runs (scripts/dev/temporal-cluster.ts), as a platform team would check
 * it: four services in four processes, four history shards, PostgreSQL behind them, a frontend that
 * admits only clients with a certificate from the cluster's CA, the Web UI connected over TLS, the
 * Temporal CLI and our processes configured by the same TEMPORAL_* variables, data kept across a
 * restart.
 */
describe('a Temporal cluster as npm run cluster runs it', () => {
  let test: TestCluster;
  const trusted = (): ConnectionOptions => test.cluster.connectionOptions();
  const cli = (args: string[], env: Record<string, string> = test.cluster.clientEnv()) =>
    run(temporalCliPath, args, { env: { PATH: process.env.PATH ?? '', HOME: test.cluster.options.dataDir, ...env } });

  beforeAll(async () => {
    test = await startTestCluster({ ui: true });
  });
  afterAll(async () => {
    await test?.teardown();
  });

  it('runs frontend, history, matching and worker as separate processes, with 4 history shards, on PostgreSQL', async () => {
    const pids = temporalServices.map((service) => test.cluster.processes.get(service)?.pid);
    expect(new Set(pids).size).toBe(4);
    for (const pid of pids) expect(pid).toBeGreaterThan(0);
    // The Temporal CLI reads the same TEMPORAL_* variables (and temporal.toml profiles) as our processes.
    const { stdout } = await cli(['operator', 'cluster', 'describe', '--detail', '-o', 'json']);
    const described = JSON.parse(stdout) as { historyShardCount: number; persistenceStore: string; visibilityStore: string; serverVersion: string };
    expect(described).toMatchObject({ historyShardCount: 4, persistenceStore: 'postgres12', visibilityStore: 'postgres12' });
    expect(described.serverVersion).toBe(readFileSync(new URL('../../cluster/versions.env', import.meta.url), 'utf8').match(/TEMPORAL_SERVER_VERSION=(\S+)/)![1]);
  });

  it('has the namespace and the search attributes operators search by', async () => {
    const connection = await Connection.connect(trusted());
    try {
      const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace: 'default' });
      expect(Object.keys(customAttributes ?? {})).toEqual(expect.arrayContaining(['WebhookPartnerId', 'WebhookSubscriptionId', 'WebhookBatchId', 'WebhookEventCount', 'WebhookEventTypes']));
    } finally {
      await connection.close();
    }
  });

  it('refuses a client without a certificate, with a certificate from another CA, and in plain text', async () => {
    const { ca } = test.cluster.certs;
    const strangers = join(test.cluster.options.dataDir, 'strangers');
    const otherCa = makeCa(strangers, 'other-ca');
    const stranger = makeLeaf(strangers, otherCa, 'stranger', { name: 'stranger', usage: 'client' });
    const attempts: ConnectionOptions[] = [
      { address: test.cluster.address, tls: { serverNameOverride: FRONTEND_SERVER_NAME, serverRootCACertificate: readFileSync(ca) } },
      {
        address: test.cluster.address,
        tls: { serverNameOverride: FRONTEND_SERVER_NAME, serverRootCACertificate: readFileSync(ca), clientCertPair: { crt: readFileSync(stranger.cert), key: readFileSync(stranger.key) } },
      },
      { address: test.cluster.address },
    ];
    for (const options of attempts) {
      const refused = await Connection.connect({ ...options, connectTimeout: 3_000 })
        .then(async (connection) => {
          try {
            await connection.workflowService.getSystemInfo({});
            return false;
          } finally {
            await connection.close();
          }
        })
        .catch(() => true);
      expect(refused, JSON.stringify({ tls: Boolean(options.tls), cert: Boolean((options.tls as { clientCertPair?: unknown } | undefined)?.clientCertPair) })).toBe(true);
    }
    // The CLI without the certificate is refused too; with it (the test above), it is let in.
    const { TEMPORAL_TLS_CLIENT_CERT_PATH: _cert, TEMPORAL_TLS_CLIENT_KEY_PATH: _key, ...withoutCertificate } = test.cluster.clientEnv();
    await expect(cli(['operator', 'namespace', 'list'], withoutCertificate)).rejects.toThrow();
  });

  it('serves the Web UI, which reaches the frontend over mutual TLS', async () => {
    const response = await fetch(`${test.cluster.uiUrl}/api/v1/namespaces`);
    expect(response.status).toBe(200);
    const { namespaces } = (await response.json()) as { namespaces: { namespaceInfo: { name: string } }[] };
    expect(namespaces.map((namespace) => namespace.namespaceInfo.name)).toContain('default');
  });

  it('stops a worker whose Temporal certificate has no key, in one line naming the setting', async () => {
    const { TEMPORAL_TLS_CLIENT_KEY_PATH: _key, ...env } = test.cluster.clientEnv();
    const worker = startProjectProcess('worker/main.ts', { ...env, WORKER_METRICS_PORT: '0' });
    expect(await worker.exited).toBe(2);
    expect(worker.output().trim()).toBe(
      'worker: invalid configuration: a Temporal client certificate is set without its key: set TEMPORAL_TLS_CLIENT_KEY_PATH (or _DATA, or client_key_path in the profile)',
    );
  });

  it('keeps its workflows across a restart of every process', async () => {
    const workflowId = `survives-restart-${Date.now()}`;
    let connection = await Connection.connect(trusted());
    // No worker polls this queue: the workflow stays running, recorded in PostgreSQL only.
    await new Client({ connection }).workflow.start('nobodyRunsThis', { taskQueue: 'no-worker-here', workflowId });
    await connection.close();
    await test.cluster.stop();
    test = await startTestCluster({ reuse: test.cluster });
    connection = await Connection.connect(trusted());
    try {
      const described = await new Client({ connection }).workflow.getHandle(workflowId).describe();
      expect(described.status.name).toBe('RUNNING');
    } finally {
      await connection.close();
    }
  });
});
