import { randomUUID } from 'node:crypto';
import { WorkflowFailedError } from '@temporalio/client';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createActivities } from '../../activities';
import { buildPayloadBody } from '../../domain/payload';
import { MAX_ATTEMPTS, retrySchedule } from '../../domain/schedule';
import type { DeliveryWorkflowInput } from '../../workflows/delivery';
import { batchWorkflowId, subscriptionWorkflowId } from '../../workflows/ids';
import type { SubscriptionWorkflowInput } from '../../workflows/subscription';
import { testConfig } from '../../harness/in-process';
import { Receiver } from '../../harness/receiver';
import { startTimeSkippingServer, workflowBundle } from '../../harness/temporal';

/**
 * The real 30-day schedule (DELIVERY_BACKOFF_SCALE 1) on Temporal's time-skipping test server:
 * every attempt's offset on Temporal's clock must match docs/delivery.md's table.
 */
describe('the 26-attempt schedule over 30 days, time-skipped', () => {
  let env: TestWorkflowEnvironment;
  let receiver: Receiver;

  beforeAll(async () => {
    env = await startTimeSkippingServer();
    receiver = await Receiver.start();
  });

  afterAll(async () => {
    await receiver?.close();
    await env?.teardown();
  });

  it('tries an always-failing endpoint 26 times at the offsets of the table, then fails the batch', async () => {
    const config = testConfig({ DELIVERY_BACKOFF_SCALE: '1' });
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue: config.temporal.taskQueue,
      workflowBundle: await workflowBundle(),
      activities: createActivities(config),
    });
    const temporalTimes: number[] = [];
    receiver.onRequest = async () => {
      temporalTimes.push(await env.currentTimeMs());
    };
    receiver.responder = () => ({ status: 503, body: 'still down' });

    const partnerId = 'p-schedule';
    const subscriptionId = randomUUID();
    const batchId = randomUUID();
    const createdAt = new Date(await env.currentTimeMs()).toISOString();
    const url = receiver.url('/always-down');
    const input: DeliveryWorkflowInput = {
      batchId,
      partnerId,
      subscriptionId,
      url,
      createdAt,
      eventCount: 1,
      sequence: 1,
      body: buildPayloadBody(batchId, createdAt, [{ id: randomUUID(), createdAt, type: 't', data: {} }]),
    };

    const failure = await worker.runUntil(async () => {
      // The subscription stays alive throughout: retries only stop early for a deleted one.
      await env.client.workflow.start('subscriptionWorkflow', {
        workflowId: subscriptionWorkflowId(partnerId, subscriptionId),
        taskQueue: config.temporal.taskQueue,
        args: [{ partnerId, subscriptionId, createdAt, config: { url, eventTypes: ['t'], batching: { windowMs: 1_000, maxEvents: 100 } } } satisfies SubscriptionWorkflowInput],
        memo: { subscription: { id: subscriptionId, partnerId, url, eventTypes: ['t'], batching: { windowMs: 1_000, maxEvents: 100 }, createdAt, updatedAt: createdAt } },
      });
      return env.client.workflow
        .execute('deliveryWorkflow', { workflowId: batchWorkflowId(batchId), taskQueue: config.temporal.taskQueue, args: [input] })
        .then(
          () => undefined,
          (err: unknown) => err,
        );
    });

    expect(failure).toBeInstanceOf(WorkflowFailedError);
    expect((failure as WorkflowFailedError).cause?.message).toMatch(/^delivery failed after 26 attempts: attempt 26: HTTP 503/);
    expect(receiver.requests).toHaveLength(MAX_ATTEMPTS);
    expect(new Set(receiver.requests.map((r) => r.sha256)).size).toBe(1);

    const table = retrySchedule(1);
    const offsets = temporalTimes.map((t) => t - temporalTimes[0]!);
    // Within a second of the table at every attempt, over 30 days of Temporal time.
    for (let i = 0; i < MAX_ATTEMPTS; i++) expect(Math.abs(offsets[i]! - table[i]!.offsetMs)).toBeLessThan(1_000);
    expect(offsets[MAX_ATTEMPTS - 1]! / 86_400_000).toBeGreaterThan(29);
    expect(offsets[MAX_ATTEMPTS - 1]! / 86_400_000).toBeLessThan(31);
  });
});
