import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { serve, type ServerType } from '@hono/node-server';
import { Client, Connection } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCodecApp } from '../../codec/app';
import { newKeyEntry } from '../../codec/key-ring';
import { EncryptionCodec } from '../../codec/payload-codec';
import type { Config } from '../../platform/config';
import { batchWorkflowId } from '../../workflows/ids';
import { apiFor } from '../../harness/api';
import { launchChromium, screenshotPath } from '../support/browser';
import { createTestWorker, testConfig } from '../../harness/in-process';
import { freePort } from '../../harness/processes';
import { startStack, type Stack as ProcessStack } from '../../harness/stack';
import { Receiver } from '../../harness/receiver';
import { eventually, startDevServer } from '../../harness/temporal';

/**
 * What an operator sees of an encrypted batch in the Temporal Web UI: with the codec endpoint
 * (as `npm run dev` starts it), the batch's body in clear; without it, only ciphertext. Two dev
 * servers, the same encrypting worker and API, Debian's Chromium.
 */
interface Stack {
  env: TestWorkflowEnvironment;
  worker: Worker;
  running: Promise<void>;
  uiUrl: string;
  batchId: string;
}

describe('encrypted batches in the Temporal Web UI', () => {
  const marker = `ui-marker-${randomUUID()}`;
  const config: Config = testConfig({ PAYLOAD_KEYS: newKeyEntry('ui-key') });
  let receiver: Receiver;
  let browser: Browser;
  let codecServer: ServerType;
  let withCodec: Stack;
  let withoutCodec: Stack;

  async function startStack(codecEndpoint?: string, uiPort?: number): Promise<Stack> {
    uiPort ??= await freePort();
    const env = await startDevServer(['--ui-port', String(uiPort), '--ui-disable-news-fetch', ...(codecEndpoint ? ['--ui-codec-endpoint', codecEndpoint] : [])], { ui: true });
    const worker = await createTestWorker(env, config);
    const running = worker.run();
    const client = new Client({ connection: env.connection, dataConverter: config.temporal.dataConverter });
    const api = apiFor(client, config);
    const partnerId = `ui-${randomUUID().slice(0, 8)}`;
    await api('POST', `/v1/partners/${partnerId}/subscriptions`, { url: receiver.url(`/${partnerId}?token=${marker}`), eventTypes: ['t'], batching: { maxEvents: 1 } });
    await api('POST', `/v1/partners/${partnerId}/events`, { type: 't', data: { note: marker } });
    const request = await eventually(() => receiver.requests.find((r) => r.path.startsWith(`/${partnerId}?`)), 30_000, 'the batch');
    return { env, worker, running, uiUrl: `http://127.0.0.1:${uiPort}`, batchId: (JSON.parse(request.body) as { batch_id: string }).batch_id };
  }

  beforeAll(async () => {
    receiver = await Receiver.start();
    browser = await launchChromium();
    const uiPort = await freePort();
    const app = createCodecApp({
      codec: new EncryptionCodec(config.encryption.keyRing),
      auth: 'none',
      tokens: [],
      corsOrigins: [`http://127.0.0.1:${uiPort}`, `http://localhost:${uiPort}`],
    });
    codecServer = await new Promise<ServerType>((resolve) => {
      const server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, () => resolve(server));
    });
    const codecUrl = `http://127.0.0.1:${(codecServer.address() as AddressInfo).port}`;
    withCodec = await startStack(codecUrl, uiPort);
    withoutCodec = await startStack();
  });

  afterAll(async () => {
    await browser?.close();
    for (const stack of [withCodec, withoutCodec]) {
      if (!stack) continue;
      stack.worker.shutdown();
      await stack.running;
      await stack.env.teardown();
    }
    codecServer?.close();
    await receiver?.close();
  });

  async function openBatch(stack: Stack): Promise<Page> {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    await page.goto(`${stack.uiUrl}/namespaces/default/workflows/${encodeURIComponent(batchWorkflowId(stack.batchId))}`);
    await page.getByText('deliveryWorkflow').first().waitFor({ timeout: 30_000 });
    return page;
  }
  const pageText = (page: Page) => page.evaluate(() => document.body.innerText);

  it("shows the batch's body and endpoint decoded when the UI has the codec endpoint", async () => {
    const page = await openBatch(withCodec);
    await page.waitForFunction((text) => document.body.innerText.includes(text), marker, { timeout: 30_000 });
    expect(await pageText(page)).toContain(marker);
    await page.screenshot({ path: screenshotPath('batch-decoded.png'), fullPage: true });
  });

  it('shows only ciphertext without the codec endpoint', async () => {
    const page = await openBatch(withoutCodec);
    // The UI shows what it cannot decode as the payload's bytes, in base64: ciphertext.
    await page.waitForFunction(() => /Input\s*"[A-Za-z0-9+/=]{200,}"/.test(document.body.innerText), undefined, { timeout: 30_000 });
    expect(await pageText(page)).not.toContain(marker);
    await page.screenshot({ path: screenshotPath('batch-encrypted.png'), fullPage: true });
  });
});

/**
 * The Compose stack's arrangement (decision 0006), with the real parts: a cluster's Web UI server
 * configured with `includeCredentials`, the codec server process asking for an operator token,
 * an operator signing in at the codec server's /login in the same browser.
 */
describe('an operator signing in to the codec server the cluster\'s Web UI calls', () => {
  const marker = `cluster-ui-marker-${randomUUID()}`;
  const operatorToken = `operator-${randomUUID()}`;
  const payloadKeys = newKeyEntry('cluster-ui-key');
  let stack: ProcessStack;
  let receiver: Receiver;
  let browser: Browser;
  let codecUrl: string;
  let batchId: string;

  beforeAll(async () => {
    const config = testConfig({ PAYLOAD_KEYS: payloadKeys });
    // The API runs in this process (below); the worker and the codec server as their own.
    stack = await startStack({
      temporal: 'cluster',
      ui: true,
      codecIncludeCredentials: true,
      apis: 0,
      env: { PAYLOAD_KEYS: payloadKeys, TEMPORAL_TASK_QUEUE: config.temporal.taskQueue },
      codec: { env: { CODEC_TOKENS: operatorToken } },
    });
    receiver = stack.receiver;
    codecUrl = stack.codec!.url;
    const connection = await Connection.connect(stack.connectionOptions);
    const api = apiFor(new Client({ connection, dataConverter: config.temporal.dataConverter }), config);
    await api('POST', '/v1/partners/cluster-ui/subscriptions', { url: receiver.url(`/cluster-ui?token=${marker}`), eventTypes: ['t'], batching: { maxEvents: 1 } });
    await api('POST', '/v1/partners/cluster-ui/events', { type: 't', data: { note: marker } });
    const request = await eventually(() => receiver.requests.find((r) => r.path.startsWith('/cluster-ui')), 60_000, 'the batch');
    batchId = (JSON.parse(request.body) as { batch_id: string }).batch_id;
    await connection.close();
    browser = await launchChromium();
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await stack?.stop();
  });

  it('shows ciphertext until the operator signs in at the codec server, then the batch in clear', async () => {
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    const page = await context.newPage();
    const batchPage = `${stack.cluster!.uiUrl}/namespaces/default/workflows/${encodeURIComponent(batchWorkflowId(batchId))}`;
    await page.goto(batchPage);
    await page.getByText('deliveryWorkflow').first().waitFor({ timeout: 30_000 });
    await page.waitForFunction(() => /Input\s*"[A-Za-z0-9+/=]{200,}"/.test(document.body.innerText), undefined, { timeout: 30_000 });
    expect(await page.evaluate(() => document.body.innerText)).not.toContain(marker);

    await page.goto(`${codecUrl}/login`);
    await page.getByLabel('Operator token').fill(operatorToken);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('Signed in for 12 hours').waitFor({ timeout: 10_000 });

    await page.goto(batchPage);
    await page.waitForFunction((text) => document.body.innerText.includes(text), marker, { timeout: 30_000 });
    await page.screenshot({ path: screenshotPath('cluster-batch-decoded.png'), fullPage: true });
    await context.close();
  });
});
