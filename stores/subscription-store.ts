import { randomUUID } from 'node:crypto';
import type { Client } from '@temporalio/client';
import type { Config } from '../platform/config';
import { INITIAL_SIGNING, type SigningState } from '../domain/signing-state';
import { WINDOW_MS_DEFAULT, type SubscriptionConfig, type SubscriptionConfigPatch } from '../domain/schema';
import { subscriptionWorkflowId } from '../workflows/ids';
import { configureUpdate, deleteUpdate, rotateSecretUpdate, stateQuery, type SubscriptionMemo, type SubscriptionView } from '../workflows/messages';
import { partnerIdKey, routesChangedAtKey, subscriptionIdKey } from '../workflows/search-attributes';
import type { subscriptionWorkflow } from '../workflows/subscription';
import { NotFoundError } from '../domain/errors';
import { isGoneError } from './temporal-errors';

export interface CreateSubscriptionInput {
  url: string;
  eventTypes: string[];
  batching?: { windowMs?: number; maxEvents?: number };
}

/** A subscription as listing and routing see it: its memo, read from Temporal's visibility store. */
export type SubscriptionSummary = SubscriptionMemo['subscription'];

/** What changed for routing over an interval: see SubscriptionStore.listChangedSince. */
export interface RouteChanges {
  changed: SubscriptionSummary[];
  ended: SubscriptionSummary[];
}

/**
 * Subscriptions live in Temporal: one workflow each. This store is the API's only way to them:
 * start, list (visibility), read (query), change and delete (updates).
 */
export class SubscriptionStore {
  constructor(
    private readonly client: Client,
    private readonly config: Config,
  ) {}

  async create(partnerId: string, input: CreateSubscriptionInput): Promise<SubscriptionView> {
    const id = randomUUID();
    const createdAt = new Date().toISOString();
    const subscriptionConfig: SubscriptionConfig = {
      url: input.url,
      eventTypes: [...new Set(input.eventTypes)],
      batching: {
        windowMs: input.batching?.windowMs ?? WINDOW_MS_DEFAULT,
        maxEvents: input.batching?.maxEvents ?? this.config.batching.maxEventsLimit,
      },
    };
    const view: SubscriptionView = {
      id,
      partnerId,
      ...subscriptionConfig,
      createdAt,
      updatedAt: createdAt,
      status: 'active',
      pendingEvents: 0,
      enabled: true,
      endpointHealth: { failingSince: null, probeBatchId: null, heldBatches: 0, disabledReason: null },
      signing: INITIAL_SIGNING,
    };
    const { pendingEvents: _p, status: _s, ...summary } = view;
    await this.client.workflow.start<typeof subscriptionWorkflow>('subscriptionWorkflow', {
      workflowId: subscriptionWorkflowId(partnerId, id),
      taskQueue: this.config.temporal.taskQueue,
      args: [{ partnerId, subscriptionId: id, config: subscriptionConfig, createdAt, backoffScale: this.config.delivery.backoffScale }],
      typedSearchAttributes: [
        { key: partnerIdKey, value: partnerId },
        { key: subscriptionIdKey, value: id },
        { key: routesChangedAtKey, value: new Date(createdAt) },
      ],
      memo: { subscription: summary } satisfies SubscriptionMemo,
      staticSummary: `Subscription of partner ${partnerId} to ${subscriptionConfig.eventTypes.length} event type(s)`,
    });
    return view;
  }

  /** The partner's active subscriptions, from visibility: eventually consistent (about a second). */
  async list(partnerId: string): Promise<SubscriptionSummary[]> {
    return this.listWhere(`${partnerIdKey.name} = '${partnerId}'`);
  }

  /** Every active subscription of every partner: what the event router loads in the background. */
  async listAll(): Promise<SubscriptionSummary[]> {
    return this.listWhere(`${partnerIdKey.name} IS NOT NULL`);
  }

  /**
   * What changed for routing since `since`: the running subscriptions whose routes were marked
   * changed (created, event types changed, enabled or disabled), and the subscriptions that
   * ended (deleted, or terminated by an operator). A run that continued as new did not end.
   */
  async listChangedSince(since: Date): Promise<RouteChanges> {
    const at = since.toISOString();
    const [changed, ended] = await Promise.all([
      this.listWhere(`${routesChangedAtKey.name} > '${at}'`),
      this.listWhere(`CloseTime > '${at}'`, `ExecutionStatus != 'Running' AND ExecutionStatus != 'ContinuedAsNew'`),
    ]);
    return { changed, ended };
  }

  private async listWhere(condition: string, status = `ExecutionStatus = 'Running'`): Promise<SubscriptionSummary[]> {
    const query = `WorkflowType = 'subscriptionWorkflow' AND ${status} AND ${condition}`;
    const found: SubscriptionSummary[] = [];
    for await (const execution of this.client.workflow.list({ query })) {
      const memo = execution.memo as Partial<SubscriptionMemo> | undefined;
      if (memo?.subscription) found.push(memo.subscription);
    }
    return found.sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  }

  async get(partnerId: string, id: string): Promise<SubscriptionView> {
    const view = await this.handle(partnerId, id)
      .query(stateQuery)
      .catch((err: unknown) => this.rethrow(err, partnerId, id));
    if (view.status === 'deleted') throw this.missing(partnerId, id);
    return view;
  }

  async update(partnerId: string, id: string, patch: SubscriptionConfigPatch): Promise<SubscriptionView> {
    return this.handle(partnerId, id)
      .executeUpdate(configureUpdate, { args: [patch] })
      .catch((err: unknown) => this.rethrow(err, partnerId, id));
  }

  async rotateSecret(partnerId: string, id: string): Promise<SigningState> {
    return this.handle(partnerId, id)
      .executeUpdate(rotateSecretUpdate)
      .catch((err: unknown) => this.rethrow(err, partnerId, id));
  }

  async delete(partnerId: string, id: string): Promise<void> {
    await this.handle(partnerId, id)
      .executeUpdate(deleteUpdate)
      .catch((err: unknown) => this.rethrow(err, partnerId, id));
  }

  private handle(partnerId: string, id: string) {
    return this.client.workflow.getHandle(subscriptionWorkflowId(partnerId, id));
  }

  private rethrow(err: unknown, partnerId: string, id: string): never {
    throw isGoneError(err) ? this.missing(partnerId, id) : err;
  }

  private missing(partnerId: string, id: string) {
    return new NotFoundError(`partner ${partnerId} has no subscription ${id}`);
  }
}
