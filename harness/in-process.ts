import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { loadConfig, type Config } from '../platform/config';
import type { SubscriptionConfig, WebhookEvent } from '../domain/schema';
import { createActivities, type ActivityOptions } from '../activities';
import { subscriptionWorkflowId } from '../workflows/ids';
import type { SubscriptionMemo } from '../workflows/messages';
import { partnerIdKey, subscriptionIdKey } from '../workflows/search-attributes';
import type { SubscriptionWorkflowInput } from '../workflows/subscription';
import { workflowBundle } from './temporal';

/** Configuration for tests: plain HTTP to loopback receivers, retries thousands of times faster. */
/** The signing key of test configurations: deliveries in tests are signed (domain/signing.ts). */
export const TEST_SIGNING_KEY = Buffer.from('test signing key, 32 bytes at least, not secret').toString('base64');

export function testConfig(overrides: Record<string, string> = {}): Config {
  return loadConfig({
    TEMPORAL_TASK_QUEUE: `test-${randomUUID()}`,
    WEBHOOK_ALLOW_HTTP: 'true',
    WEBHOOK_ALLOW_PRIVATE_NETWORKS: 'true',
    DELIVERY_BACKOFF_SCALE: '0.0001',
    WEBHOOK_SIGNING_KEY: TEST_SIGNING_KEY,
    ...overrides,
  });
}

export async function createTestWorker(env: TestWorkflowEnvironment, config: Config, options?: ActivityOptions): Promise<Worker> {
  return Worker.create({
    connection: env.nativeConnection,
    namespace: config.temporal.namespace,
    taskQueue: config.temporal.taskQueue,
    workflowBundle: await workflowBundle(),
    activities: createActivities(config, options),
    dataConverter: config.temporal.dataConverter,
  });
}

/** Starts a subscription workflow directly, as the API would. */
export async function startSubscription(
  env: TestWorkflowEnvironment,
  config: Config,
  subscription: SubscriptionConfig,
  extra: Partial<SubscriptionWorkflowInput> = {},
) {
  const partnerId = `partner-${randomUUID().slice(0, 8)}`;
  const subscriptionId = randomUUID();
  const createdAt = new Date().toISOString();
  const handle = await env.client.workflow.start('subscriptionWorkflow', {
    workflowId: subscriptionWorkflowId(partnerId, subscriptionId),
    taskQueue: config.temporal.taskQueue,
    args: [{ partnerId, subscriptionId, config: subscription, createdAt, ...extra } satisfies SubscriptionWorkflowInput],
    typedSearchAttributes: [
      { key: partnerIdKey, value: partnerId },
      { key: subscriptionIdKey, value: subscriptionId },
    ],
    // The memo the API lists and routes by, as SubscriptionStore.create writes it.
    memo: {
      subscription: { id: subscriptionId, partnerId, ...subscription, createdAt, updatedAt: createdAt },
    } satisfies SubscriptionMemo,
  });
  return { handle, partnerId, subscriptionId, createdAt };
}

let sequence = 0;
export function makeEvent(type = 'user.created', data: Record<string, unknown> = {}): WebhookEvent {
  sequence++;
  return { id: randomUUID(), createdAt: new Date().toISOString(), type, data: { sequence, ...data } };
}
