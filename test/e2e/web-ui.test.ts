import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiFor } from '../../harness/api';
import { createTestWorker, testConfig } from '../../harness/in-process';
import { freePort } from '../../harness/processes';
import { launchChromium, screenshotPath } from '../support/browser';
import { Receiver } from '../../harness/receiver';
import { eventually, startDevServer } from '../../harness/temporal';

/**
 * What an operator does: open the Temporal Web UI with a query from docs/operations.md and find
 * a partner's failed batch. Debian's Chromium, driven by playwright-core (no downloaded browser).
 */

describe('finding a failed batch in the Temporal Web UI', () => {
  let env: TestWorkflowEnvironment;
  let worker: Worker;
  let running: Promise<void>;
  let receiver: Receiver;
  let browser: Browser;
  let uiPort: number;

  beforeAll(async () => {
    uiPort = await freePort();
    env = await startDevServer(['--ui-port', String(uiPort), '--ui-disable-news-fetch'], { ui: true });
    const config = testConfig({ DELIVERY_BACKOFF_SCALE: '0.000001' });
    worker = await createTestWorker(env, config);
    running = worker.run();
    receiver = await Receiver.start();
    receiver.responder = () => ({ status: 500, body: 'partner endpoint is down' });
    browser = await launchChromium();

    const api = apiFor(env.client, config);
    const created = await api('POST', '/v1/partners/ui-partner/subscriptions', { url: receiver.url('/down'), eventTypes: ['t'], batching: { maxEvents: 1 } });
    await api('POST', '/v1/partners/ui-partner/events', { type: 't', data: { order: 42 } });
    await eventually(
      async () => {
        const listed = await api('GET', `/v1/partners/ui-partner/subscriptions/${created.json.id}/batches?status=failed`);
        return listed.json.batches.length === 1 ? true : undefined;
      },
      60_000,
      'the batch to fail',
    );
  });

  afterAll(async () => {
    await browser?.close();
    worker?.shutdown();
    await running;
    await receiver?.close();
    await env?.teardown();
  });

  it("lists the partner's failed batch for the query in docs/operations.md", async () => {
    const failed: string[] = [];
    for await (const execution of env.client.workflow.list({ query: "WorkflowType = 'deliveryWorkflow' AND WebhookPartnerId = 'ui-partner'" })) failed.push(execution.workflowId);
    expect(failed).toHaveLength(1);

    const query = "WebhookPartnerId = 'ui-partner' AND ExecutionStatus = 'Failed'";
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    await page.goto(`http://127.0.0.1:${uiPort}/namespaces/default/workflows?query=${encodeURIComponent(query)}`);
    const row = page.getByRole('link', { name: failed[0]! });
    await row.waitFor({ timeout: 30_000 });
    expect(await page.getByText('deliveryWorkflow').count()).toBeGreaterThan(0);
    await page.screenshot({ path: screenshotPath('failed-batches.png') });

    // The batch's own page shows its summary and the failure.
    await row.click();
    await page.getByText('delivery failed after 26 attempts').first().waitFor({ timeout: 30_000 });
    await page.screenshot({ path: screenshotPath('failed-batch.png'), fullPage: true });
  });
});
