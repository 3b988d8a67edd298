import { randomUUID } from 'node:crypto';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Context } from '@temporalio/activity';
import { judgeAttempt } from '../../activities/attempt-outcome';
import { attemptFailure, attemptOf, type DeliverBatchInput, type DeliverBatchResult } from '../../activities/delivery';
import { GATE_AFTER_FAILED_ATTEMPTS, MAX_ATTEMPTS } from '../../domain/schedule';
import { subscriptionWorkflowId } from '../../workflows/ids';
import { configureUpdate, endpointSignal, eventsSignal, stateQuery, type SubscriptionMemo } from '../../workflows/messages';
import type { SubscriptionWorkflowInput } from '../../workflows/subscription';
import { searchAttributeTypes } from '../../scripts/ops/temporal-setup';
import { makeEvent, testConfig } from '../../harness/in-process';
import { startTimeSkippingServer, workflowBundle } from '../../harness/temporal';

/**
 * The endpoint gate at its real durations (DELIVERY_BACKOFF_SCALE 1: 26 attempts over about 30
 * days, a held batch's limit about 61 days) on Temporal's time-skipping test server: months in
 * seconds. The workflows are the real ones; `deliverBatch` is a fake that answers at once, as the
 * real one would for an endpoint that is down (503, the schedule's next delay, "failing" reported
 * at the third attempt) or up, so no request is in flight while the server skips time.
 */
const DAY = 86_400_000;


describe('the endpoint gate over months, time-skipped', () => {
  let env: TestWorkflowEnvironment;
  const config = testConfig({ DELIVERY_BACKOFF_SCALE: '1' });
  /** Paths whose endpoint is down; attempts made per batch id. */
  const down = new Set<string>();
  const attempts = new Map<string, number>();

  async function deliverBatch(input: DeliverBatchInput): Promise<DeliverBatchResult> {
    const context = Context.current();
    const attempt = attemptOf(context.info, input);
    attempts.set(input.batchId, (attempts.get(input.batchId) ?? 0) + 1);
    if (!down.has(new URL(input.url).pathname)) return { status: 200, attempt, url: input.url, deliveredAt: new Date().toISOString() };
    const verdict = judgeAttempt({ kind: 'response', status: 503, bodySnippet: 'down for the month' }, attempt, config.delivery.backoffScale);
    if (verdict.delivered) throw new Error('a 503 judged delivered');
    if (attempt === GATE_AFTER_FAILED_ATTEMPTS) {
      await context.client.workflow
        .getHandle(subscriptionWorkflowId(input.partnerId, input.subscriptionId))
        .signal(endpointSignal, { batchId: input.batchId, outcome: 'failing', at: new Date().toISOString(), error: verdict.message });
    }
    throw attemptFailure(verdict);
  }

  // A server per test: what one test leaves running (retries, held batches) must not hold the
  // next test's clock.
  beforeEach(async () => {
    env = await startTimeSkippingServer();
    // Batches carry the project's search attributes: this server must know them, as ours do.
    // (The time-skipping server cannot list them, so they are added without looking.)
    await env.connection.operatorService.addSearchAttributes({ namespace: 'default', searchAttributes: searchAttributeTypes() });

  });

  afterEach(async () => {
    await env?.teardown();
  });

  /** A worker for one test (a worker runs once), with the real workflows and the fake activity. */
  async function withWorker(body: () => Promise<void>): Promise<void> {
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue: config.temporal.taskQueue,
      workflowBundle: await workflowBundle(),
      activities: { deliverBatch },
    });
    await worker.runUntil(body);
  }

  /** A subscription cutting one batch per event, started as the API starts it (memo included). */
  async function subscribe(path: string) {
    const partnerId = `gate-${randomUUID().slice(0, 8)}`;
    const subscriptionId = randomUUID();
    const createdAt = new Date(await env.currentTimeMs()).toISOString();
    const subscription = { url: `https://partner.example${path}`, eventTypes: ['t'], batching: { windowMs: 1_000, maxEvents: 1 } };
    const handle = await env.client.workflow.start('subscriptionWorkflow', {
      workflowId: subscriptionWorkflowId(partnerId, subscriptionId),
      taskQueue: config.temporal.taskQueue,
      args: [{ partnerId, subscriptionId, createdAt, config: subscription } satisfies SubscriptionWorkflowInput],
      // The memo SubscriptionStore.create writes: the activity reads the gate's state from it.
      memo: {
        subscription: {
          id: subscriptionId,
          partnerId,
          ...subscription,
          createdAt,
          updatedAt: createdAt,
          enabled: true,
          endpointHealth: { failingSince: null, probeBatchId: null, heldBatches: 0, disabledReason: null },
        },
      } satisfies SubscriptionMemo,
    });
    const post = () => handle.signal(eventsSignal, { events: [makeEvent('t')] });
    const state = () => handle.query(stateQuery);
    /** The batches it cut, oldest first: its children's workflow ids. */
    const batches = async () =>
      ((await handle.fetchHistory()).events ?? []).flatMap((event) => event.startChildWorkflowExecutionInitiatedEventAttributes?.workflowId ?? []);
    return { handle, post, state, batches };
  }
  const attemptsAt = (batchWorkflowId: string) => attempts.get(batchWorkflowId.replace(/^batch:/, '')) ?? 0;
  const failureOf = async (batchWorkflowId: string) => {
    const handle = env.client.workflow.getHandle(batchWorkflowId);
    return handle.result().then(
      () => 'delivered',
      (err: { cause?: { message?: string } }) => err.cause?.message ?? 'failed',
    );
  };

  it('disables the subscription when its probe fails its 26th attempt, then probes with each held batch in turn; one held past twice the retry period fails unattempted', async () => {
    down.add('/month');
    await withWorker(async () => {
      const sub = await subscribe('/month');
      const start = await env.currentTimeMs();
      await sub.post();
      await env.sleep('1 hour'); // the probe's third attempt, at about 4 minutes, closes the gate
      expect((await sub.state()).endpointHealth.failingSince).not.toBeNull();
      for (let i = 0; i < 3; i++) await sub.post();
      await env.sleep('1 minute');
      expect((await sub.state()).endpointHealth.heldBatches).toBe(3);
      const [probe, firstHeld, secondHeld, thirdHeld] = await sub.batches();

      // Day 31: the probe has failed its 26 attempts (about 30.5 days): delivery is disabled, and
      // the oldest held batch probes next.
      await env.sleep('31 days');
      const disabled = await sub.state();
      expect(disabled.enabled).toBe(false);
      expect(disabled.endpointHealth.disabledReason).toMatch(new RegExp(`failed all attempts of batch ${probe!.replace(/^batch:/, '')}`));
      expect(disabled.endpointHealth.heldBatches).toBe(2);
      expect(attemptsAt(probe!)).toBe(MAX_ATTEMPTS);
      expect(await failureOf(probe!)).toMatch(/^delivery failed after 26 attempts/);
      expect(attemptsAt(firstHeld!)).toBeGreaterThan(0);

      // Day 62: that one failed too (about day 61) and released the next; the last, held since
      // the first hour, reached its limit (twice the retry period, about 61 days) first.
      await env.sleep('31 days');
      expect((await env.currentTimeMs()) - start).toBeGreaterThan(62 * DAY);
      expect(await failureOf(firstHeld!)).toMatch(/^delivery failed after 26 attempts/);
      expect(attemptsAt(secondHeld!)).toBeGreaterThan(0);
      expect(await failureOf(thirdHeld!)).toBe('not attempted: held behind a failing endpoint for twice its retry period; redeliver it once the endpoint works');
      expect(attemptsAt(thirdHeld!)).toBe(0);
      expect((await sub.state()).endpointHealth.heldBatches).toBe(0);
    });
  });

  it('delivers every held batch when an operator enables the disabled subscription once the endpoint works', async () => {
    down.add('/returns');
    await withWorker(async () => {
      const sub = await subscribe('/returns');
      await sub.post();
      await env.sleep('1 hour');
      await sub.post();
      await sub.post();
      await env.sleep('31 days');
      expect((await sub.state()).enabled).toBe(false);

      down.delete('/returns');
      await sub.handle.executeUpdate(configureUpdate, { args: [{ enabled: true }] });
      await env.sleep('1 hour');
      const batches = await sub.batches();
      expect(batches).toHaveLength(3);
      // The exhausted probe stays failed (redelivery is a separate act); both held batches arrive.
      expect(await failureOf(batches[0]!)).toMatch(/^delivery failed after 26 attempts/);
      expect(await sub.state()).toMatchObject({ enabled: true, endpointHealth: { failingSince: null, probeBatchId: null, heldBatches: 0, disabledReason: null } });
    });
  });
});
