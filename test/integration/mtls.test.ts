import { copyFileSync, mkdtempSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../platform/config';
import type { Resolver } from '../../platform/endpoint-resolver';
import { apiFor } from '../../harness/api';
import { makeCa, makeLeaf, type Pem } from '../../scripts/dev/certs';
import { createTestWorker, testConfig } from '../../harness/in-process';
import { Receiver } from '../../harness/receiver';
import { eventually, startDevServer } from '../../harness/temporal';

/**
 * Deliveries over mutual TLS to real HTTPS receivers, with certificates made here by openssl.
 * The host names resolve through a test resolver: partner.test and other.test to 127.0.0.1.
 */
const SCALE = '0.00001';
const hosts: Record<string, string> = { 'partner.test': '127.0.0.1', 'other.test': '127.0.0.1' };
const resolver: Resolver = (hostname, _options, callback) => {
  const address = hosts[hostname];
  if (!address) return callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), []);
  callback(null, [{ address, family: 4 }]);
};

describe('mTLS delivery on a real Temporal server', () => {
  let env: TestWorkflowEnvironment;
  let dir: string;
  let config: Config;
  let worker: Worker;
  let running: Promise<void>;
  let api: ReturnType<typeof apiFor>;
  const receivers: Receiver[] = [];
  let ours: Pem, theirs: Pem, partnerCa: Pem, untrustedCa: Pem;
  let clientCertFile: string, clientKeyFile: string;

  const https = async (server: Pem, clientCa: Pem) => {
    const receiver = await Receiver.start({
      https: { cert: readFileSync(server.cert), key: readFileSync(server.key), ca: readFileSync(clientCa.cert), requestCert: true, rejectUnauthorized: true },
    });
    receivers.push(receiver);
    return receiver;
  };

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'webhooks-mtls-'));
    ours = makeCa(dir, 'our-client-ca');
    theirs = makeCa(dir, 'another-client-ca');
    partnerCa = makeCa(dir, 'partner-server-ca');
    untrustedCa = makeCa(dir, 'untrusted-ca');
    const client = makeLeaf(dir, ours, 'client', { name: 'webhooks-sender', usage: 'client' });
    clientCertFile = join(dir, 'current-client.crt');
    clientKeyFile = join(dir, 'current-client.key');
    copyFileSync(client.cert, clientCertFile);
    copyFileSync(client.key, clientKeyFile);

    env = await startDevServer();
    config = testConfig({
      DELIVERY_BACKOFF_SCALE: SCALE,
      WEBHOOK_ALLOW_HTTP: 'false',
      WEBHOOK_CLIENT_CERT: clientCertFile,
      WEBHOOK_CLIENT_KEY: clientKeyFile,
      WEBHOOK_CA_CERT: partnerCa.cert,
    });
    worker = await createTestWorker(env, config, { resolver });
    running = worker.run();
    api = apiFor(env.client, config);
  });

  afterAll(async () => {
    worker?.shutdown();
    await running;
    await Promise.all(receivers.map((r) => r.close()));
    await env?.teardown();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function post(partnerId: string, url: string) {
    const created = await api('POST', `/v1/partners/${partnerId}/subscriptions`, { url, eventTypes: ['t'], batching: { maxEvents: 1 } });
    expect(created.status).toBe(201);
    expect((await api('POST', `/v1/partners/${partnerId}/events`, { type: 't', data: { partnerId } })).status).toBe(202);
    const listed = await eventually(async () => {
      const found = await api('GET', `/v1/partners/${partnerId}/subscriptions/${created.json.id}/batches`);
      return found.json.batches[0] as { batchId: string } | undefined;
    });
    return listed.batchId;
  }

  const batchWhen = (batchId: string, ready: (batch: any) => boolean, timeoutMs = 20_000) =>
    eventually(async () => {
      const found = await api('GET', `/v1/batches/${batchId}`);
      return ready(found.json) ? found.json : undefined;
    }, timeoutMs);

  it('delivers to a receiver that requires a client certificate from our CA, presenting it', async () => {
    const receiver = await https(makeLeaf(dir, partnerCa, 'partner', { name: 'partner.test', usage: 'server' }), ours);
    const batchId = await post('mtls-ok', receiver.url('/in', 'partner.test'));
    const batch = await batchWhen(batchId, (b) => b.status === 'delivered');
    expect(batch.attempts).toBe(1);
    expect(receiver.requests[0]!.clientCertCn).toBe('webhooks-sender');
  });

  it.each([
    ['an untrusted CA', () => makeLeaf(dir, untrustedCa, 'untrusted', { name: 'partner.test', usage: 'server' }), /UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED|unable to verify/i],
    ['an expired certificate', () => makeLeaf(dir, partnerCa, 'expired', { name: 'partner.test', usage: 'server', expired: true }), /CERT_HAS_EXPIRED|expired/i],
    ['a certificate for another host name', () => makeLeaf(dir, partnerCa, 'wrong-host', { name: 'other.test', usage: 'server' }), /ERR_TLS_CERT_ALTNAME_INVALID|altnames/i],
  ])('fails and retries the attempt when the receiver presents %s, recording the TLS error', async (_case, serverCert, error) => {
    const receiver = await https(serverCert(), ours);
    const batchId = await post(`tls-${receivers.length}`, receiver.url('/in', 'partner.test'));
    const batch = await batchWhen(batchId, (b) => b.attempts >= 2 && Boolean(b.lastError));
    expect(batch.status).not.toBe('delivered');
    expect(batch.lastError).toMatch(error);
    expect(receiver.requests).toHaveLength(0);
  });

  it('fails while the receiver wants a certificate from another CA, and delivers once the rotated certificate is in place, without a restart', async () => {
    const receiver = await https(makeLeaf(dir, partnerCa, 'partner2', { name: 'partner.test', usage: 'server' }), theirs);
    const batchId = await post('rotation', receiver.url('/in', 'partner.test'));
    const failing = await batchWhen(batchId, (b) => b.attempts >= 2 && Boolean(b.lastError));
    expect(failing.status).toBe('pending');
    expect(receiver.requests).toHaveLength(0);

    // Rotate: new key and certificate (from the CA this receiver trusts) replace the files in place.
    const rotated = makeLeaf(dir, theirs, 'rotated', { name: 'webhooks-sender-2', usage: 'client' });
    copyFileSync(rotated.key, `${clientKeyFile}.new`);
    copyFileSync(rotated.cert, `${clientCertFile}.new`);
    renameSync(`${clientKeyFile}.new`, clientKeyFile);
    renameSync(`${clientCertFile}.new`, clientCertFile);

    const delivered = await batchWhen(batchId, (b) => b.status === 'delivered', 40_000);
    // The attempt in flight during the rotation may already pick up the new certificate.
    expect(delivered.attempts).toBeGreaterThanOrEqual(failing.attempts);
    expect(failing.lastError).toMatch(/^attempt \d+: (UND_ERR_SOCKET|ECONNRESET|ERR_SSL)/);
    expect(receiver.requests[0]!.clientCertCn).toBe('webhooks-sender-2');
  });

  it('refuses to save an http url when plain HTTP is not allowed', async () => {
    const refused = await api('POST', '/v1/partners/plain/subscriptions', { url: 'http://partner.test/in', eventTypes: ['t'] });
    expect(refused.status).toBe(400);
    expect(refused.json.errors[0]).toMatchObject({ path: 'body.url', message: 'the URL must be https' });
  });

  it('keeps private keys and tokens out of every workflow history, memo and search attribute', async () => {
    const secrets = [readFileSync(clientKeyFile, 'utf8'), readFileSync(join(dir, 'client.key'), 'utf8')].map((pem) =>
      pem.split('\n').filter((line) => line && !line.startsWith('-----'))[0]!,
    );
    // Payload bytes are decoded to text, so the search sees what the Web UI would show.
    const asText = (value: unknown) => JSON.stringify(value, (_key, v: unknown) => (v instanceof Uint8Array ? Buffer.from(v).toString('utf8') : v));
    let histories = 0;
    let sawPayloads = false;
    for await (const execution of env.client.workflow.list()) {
      const handle = env.client.workflow.getHandle(execution.workflowId, execution.runId);
      const text = asText(await handle.fetchHistory()) + asText(execution.memo ?? {}) + asText(execution.searchAttributes);
      histories++;
      sawPayloads ||= text.includes('partner.test');
      expect(text).not.toMatch(/PRIVATE KEY/);
      for (const secret of secrets) expect(text).not.toContain(secret);
      expect(text).not.toContain('test-token-0123456789abcdef');
    }
    expect(histories).toBeGreaterThan(5);
    expect(sawPayloads).toBe(true);
  });
});
