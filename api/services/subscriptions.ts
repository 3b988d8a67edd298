import type { Config } from '../../platform/config';
import { NotFoundError } from '../../domain/errors';
import { resolvedEndpointProblem, type Resolver } from '../../platform/endpoint-resolver';
import type { SubscriptionConfigPatch } from '../../domain/schema';
import { subscriptionSecret, type SigningState } from '../../domain/signing';
import type { SubscriptionView } from '../../workflows/messages';
import type { BatchPage, BatchPageOptions, BatchStore } from '../../stores/batch-store';
import type { RecoveryStore } from '../../stores/recovery-store';
import type { RecoveryProgress } from '../../workflows/recovery';
import type { EventCatalog } from '../event-catalog';
import type { EventRouter } from '../ingest/event-router';
import { badRequest, conflict } from '../../platform/problem';
import type { CreateSubscriptionInput, SubscriptionStore, SubscriptionSummary } from '../../stores/subscription-store';

/** What the routes and Depo need from subscriptions; tests give the routes an in-memory one. */
/** A subscription just created: the only answer that carries its signing secret, besides a rotation's. */
export type CreatedSubscription = SubscriptionView & {
  /** `whsec_…`: configure it in the partner's verifier. Null while WEBHOOK_SIGNING_KEY is not set. */
  signingSecret: string | null;
};

/** A rotation's answer: the new secret, shown once, and until when the previous one signs too. */
export interface RotatedSecret {
  signingSecret: string;
  signing: SigningState;
}

export interface SubscriptionService {
  /** Checks the endpoint policy, starts the subscription and routes to it at once in this process. */
  create(partnerId: string, input: CreateSubscriptionInput): Promise<CreatedSubscription>;
  /** The next signing secret; the previous one keeps signing beside it for 24 hours. 409 without WEBHOOK_SIGNING_KEY. */
  rotateSecret(partnerId: string, id: string): Promise<RotatedSecret>;
  list(partnerId: string): Promise<SubscriptionSummary[]>;
  /** 404 for a subscription that is not there (or is being deleted). */
  get(partnerId: string, id: string): Promise<SubscriptionView>;
  /** Checks a new url against the endpoint policy, saves, then updates this process's routing. */
  update(partnerId: string, id: string, patch: SubscriptionConfigPatch): Promise<SubscriptionView>;
  /** Answers once the pending events are cut into a last batch. */
  delete(partnerId: string, id: string): Promise<void>;
  /**
   * Starts redelivering every failed batch cut in [since, until] (until: now), oldest first, as one
   * durable recovery (workflows/recovery.ts). 400 for a range reversed or in the future, 409 while
   * one runs.
   */
  recover(partnerId: string, id: string, range: { since: string; until?: string }): Promise<RecoveryProgress>;
  /** The latest recovery's progress; 404 if there never was one. */
  recovery(partnerId: string, id: string): Promise<RecoveryProgress>;
  /** One page of its batches (stores/batch-store.ts). A deleted subscription's batches stay listable while it has any. */
  listBatches(partnerId: string, id: string, options?: BatchPageOptions): Promise<BatchPage>;
}

/**
 * Subscriptions on Temporal (stores/subscription-store.ts), with what must happen around every save
 * wherever it comes from (the API or Depo): the endpoint policy before, the routing table after.
 */
export class Subscriptions implements SubscriptionService {
  constructor(
    private readonly store: SubscriptionStore,
    private readonly router: EventRouter,
    private readonly batches: Pick<BatchStore, 'page'>,
    private readonly recoveries: Pick<RecoveryStore, 'start' | 'progress'>,
    private readonly catalog: Pick<EventCatalog, 'unsubscribable' | 'unknownTypes'>,
    private readonly policy: Config['delivery'],
    /** WEBHOOK_SIGNING_KEY: what subscriptions' signing secrets are derived from. */
    private readonly signingKey: Buffer | undefined,
    /** DNS resolution for the endpoint policy; tests inject one. */
    private readonly resolver?: Resolver,
  ) {}

  async create(partnerId: string, input: CreateSubscriptionInput): Promise<CreatedSubscription> {
    await this.checkEventTypes(input.eventTypes);
    await this.checkEndpoint(input.url);
    const view = await this.store.create(partnerId, input);
    this.router.noteSaved(partnerId, view);
    const signingSecret = this.signingKey ? subscriptionSecret(this.signingKey, partnerId, view.id, view.signing.generation) : null;
    return { ...view, signingSecret };
  }

  async rotateSecret(partnerId: string, id: string): Promise<RotatedSecret> {
    if (!this.signingKey) throw conflict('deliveries are not signed here: WEBHOOK_SIGNING_KEY is not set, so there is no secret to rotate');
    const signing = await this.store.rotateSecret(partnerId, id);
    return { signingSecret: subscriptionSecret(this.signingKey, partnerId, id, signing.generation), signing };
  }

  list(partnerId: string): Promise<SubscriptionSummary[]> {
    return this.store.list(partnerId);
  }

  get(partnerId: string, id: string): Promise<SubscriptionView> {
    return this.store.get(partnerId, id);
  }

  async update(partnerId: string, id: string, patch: SubscriptionConfigPatch): Promise<SubscriptionView> {
    if (patch.eventTypes) {
      // Catalog checks apply from now on: types the subscription already has may stay.
      const kept = this.catalog.unknownTypes === 'refuse' ? (await this.store.get(partnerId, id)).eventTypes : [];
      await this.checkEventTypes(patch.eventTypes.filter((type) => !kept.includes(type)));
    }
    await this.checkEndpoint(patch.url);
    const view = await this.store.update(partnerId, id, patch.eventTypes ? { ...patch, eventTypes: [...new Set(patch.eventTypes)] } : patch);
    if (view.enabled) this.router.noteSaved(partnerId, view);
    else this.router.noteRemoved(partnerId, id);
    return view;
  }

  async delete(partnerId: string, id: string): Promise<void> {
    await this.store.delete(partnerId, id);
    this.router.noteRemoved(partnerId, id);
  }

  async recover(partnerId: string, id: string, range: { since: string; until?: string }): Promise<RecoveryProgress> {
    const now = Date.now();
    const since = new Date(range.since);
    const until = range.until ? new Date(range.until) : new Date(now);
    // A minute of grace for clocks that disagree.
    if (since.getTime() > now + 60_000 || until.getTime() > now + 60_000) throw badRequest('the range is in the future: only batches already cut can have failed', [{ path: 'body.until', message: 'in the future' }]);
    if (since >= until) throw badRequest('since must be before until', [{ path: 'body.since', message: 'since must be before until' }]);
    await this.store.get(partnerId, id);
    return this.recoveries.start(partnerId, id, since.toISOString(), until.toISOString());
  }

  recovery(partnerId: string, id: string): Promise<RecoveryProgress> {
    return this.recoveries.progress(partnerId, id);
  }

  async listBatches(partnerId: string, id: string, options: BatchPageOptions = {}): Promise<BatchPage> {
    await this.store.get(partnerId, id).catch(async (err: unknown) => {
      if (!(err instanceof NotFoundError)) throw err;
      if ((await this.batches.page(partnerId, id, { limit: 1 })).batches.length === 0) throw err;
    });
    return this.batches.page(partnerId, id, options);
  }

  /** With UNKNOWN_EVENT_TYPES=refuse, new types must be in the catalog and not archived. */
  private async checkEventTypes(types: string[]): Promise<void> {
    const refused = await this.catalog.unsubscribable(types);
    if (refused.length > 0) throw badRequest(`body.eventTypes: ${refused.join('; ')}`, [{ path: 'body.eventTypes', message: refused.join('; ') }]);
  }

  /** The endpoint policy when a url is saved: its host is resolved, and a private address refused. */
  private async checkEndpoint(url: string | undefined): Promise<void> {
    if (url === undefined) return;
    const problem = await resolvedEndpointProblem(url, this.policy, this.resolver);
    if (problem) throw badRequest(`body.url: ${problem}`, [{ path: 'body.url', message: problem }]);
  }
}
