import { eventBytes, eventsThatFit } from '../domain/payload';
import { MAX_BATCH_BYTES, type SubscriptionConfig, type SubscriptionConfigPatch, type WebhookEvent } from '../domain/schema';
import type { SubscriptionView } from './messages';

/** How many recent event ids a subscription remembers to drop a re-posted event (documented window). */
export const DEDUPE_WINDOW_EVENTS = 10_000;

/**
 * When a run hands over to a new one (continue-as-new). Temporal refuses the 10,001st signal of a
 * run and its continue-as-new suggestion ignores signals, and abandoned children count as pending
 * (2,000 at most) until they close: so signals and batches are counted here. Tests lower these.
 */
export interface RunLimits {
  signals: number;
  batches: number;
  historyEvents: number;
  historyBytes: number;
}
export const DEFAULT_RUN_LIMITS: RunLimits = { signals: 2_000, batches: 500, historyEvents: 8_000, historyBytes: 8 * 2 ** 20 };

/** What one run hands to the next: everything that is not configuration. */
export interface CarriedState {
  pending: WebhookEvent[];
  lastCutAt: number;
  recentEventIds: string[];
  updatedAt: string;
  deleting: boolean;
  /** Batches this subscription has cut so far, over all its runs. */
  batchesCut: number;
}

export interface SubscriptionWorkflowInput {
  partnerId: string;
  subscriptionId: string;
  config: SubscriptionConfig;
  createdAt: string;
  carried?: CarriedState;
  limits?: Partial<RunLimits>;
}

/** A subscription's state: kept in one small class so the handlers stay thin. */
export class SubscriptionState {
  readonly partnerId: string;
  readonly subscriptionId: string;
  readonly createdAt: string;
  readonly limits: RunLimits;
  config: SubscriptionConfig;
  updatedAt: string;
  pending: WebhookEvent[];
  /** The JSON size of each pending event, in step with `pending`. */
  private pendingSizes: number[];
  lastCutAt: number;
  deleting: boolean;
  /** Bumped whenever the main loop must look again before its timer fires. */
  wakeups = 0;
  signalsThisRun = 0;
  batchesThisRun = 0;
  /** Batches cut over all runs: the next batch's sequence number is this plus one. */
  batchesCut: number;
  private readonly recentIds: Set<string>;

  constructor(input: SubscriptionWorkflowInput) {
    this.partnerId = input.partnerId;
    this.subscriptionId = input.subscriptionId;
    this.createdAt = input.createdAt;
    this.config = input.config;
    this.limits = { ...DEFAULT_RUN_LIMITS, ...input.limits };
    const carried = input.carried;
    this.pending = carried?.pending ?? [];
    this.pendingSizes = this.pending.map(eventBytes);
    this.lastCutAt = carried?.lastCutAt ?? Date.parse(input.createdAt);
    this.updatedAt = carried?.updatedAt ?? input.createdAt;
    this.deleting = carried?.deleting ?? false;
    this.batchesCut = carried?.batchesCut ?? 0;
    this.recentIds = new Set(carried?.recentEventIds ?? []);
  }

  accept(events: readonly WebhookEvent[]): void {
    this.signalsThisRun++;
    const wasEmpty = this.pending.length === 0;
    for (const event of events) {
      if (this.recentIds.has(event.id)) continue;
      this.remember(event.id);
      this.pending.push(event);
      this.pendingSizes.push(eventBytes(event));
    }
    const full = this.pending.length >= this.config.batching.maxEvents || this.fitCount() < this.pending.length;
    if ((wasEmpty && this.pending.length > 0) || full) this.wakeups++;
    if (this.signalsThisRun >= this.limits.signals) this.wakeups++;
  }

  configure(patch: SubscriptionConfigPatch, now: string): void {
    this.config = {
      url: patch.url ?? this.config.url,
      eventTypes: patch.eventTypes ?? this.config.eventTypes,
      batching: { ...this.config.batching, ...patch.batching },
    };
    this.updatedAt = now;
    this.wakeups++;
  }

  markDeleting(): void {
    this.deleting = true;
    this.wakeups++;
  }

  /** Takes the oldest `size` pending events as the next batch and starts the next window. */
  takeBatch(size: number, now: number): WebhookEvent[] {
    this.lastCutAt = now;
    this.batchesThisRun++;
    this.batchesCut++;
    this.pendingSizes.splice(0, size);
    return this.pending.splice(0, size);
  }

  /** How many pending events, oldest first, fit in one batch payload. */
  fitCount(): number {
    return eventsThatFit(this.pendingSizes, MAX_BATCH_BYTES);
  }

  shouldContinueAsNew(historyLength: number, suggested: boolean, historySize = 0): boolean {
    return (
      suggested ||
      historyLength >= this.limits.historyEvents ||
      historySize >= this.limits.historyBytes ||
      this.signalsThisRun >= this.limits.signals ||
      this.batchesThisRun >= this.limits.batches
    );
  }

  carryOver(): SubscriptionWorkflowInput {
    return {
      partnerId: this.partnerId,
      subscriptionId: this.subscriptionId,
      config: this.config,
      createdAt: this.createdAt,
      limits: this.limits,
      carried: {
        pending: this.pending,
        lastCutAt: this.lastCutAt,
        recentEventIds: [...this.recentIds],
        updatedAt: this.updatedAt,
        deleting: this.deleting,
        batchesCut: this.batchesCut,
      },
    };
  }

  view(): SubscriptionView {
    return {
      id: this.subscriptionId,
      partnerId: this.partnerId,
      url: this.config.url,
      eventTypes: this.config.eventTypes,
      batching: this.config.batching,
      createdAt: this.createdAt,
      updatedAt: this.updatedAt,
      status: this.deleting ? 'deleted' : 'active',
      pendingEvents: this.pending.length,
    };
  }

  private remember(id: string): void {
    this.recentIds.add(id);
    if (this.recentIds.size > DEDUPE_WINDOW_EVENTS) {
      // A Set iterates in insertion order: the first id is the oldest.
      const oldest = this.recentIds.values().next().value;
      if (oldest !== undefined) this.recentIds.delete(oldest);
    }
  }
}
