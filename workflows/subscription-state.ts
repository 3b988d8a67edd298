import { eventBytes, eventsThatFit } from '../domain/payload';
import { MAX_BATCH_BYTES } from '../domain/limits';
import type { SubscriptionConfig, SubscriptionConfigPatch, WebhookEvent } from '../domain/schema';
import type { EndpointReport, SubscriptionView } from './messages';

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

/**
 * The most batches held behind a failing endpoint's probe. Reaching it disables the subscription:
 * with the default 100 events a batch that is 500,000 events waiting for one partner.
 */
export const MAX_HELD_BATCHES = 5_000;

const DISABLED_THROUGH_API = 'disabled through the API';

/** The endpoint gate's state, carried across continue-as-new. */
export interface GateState {
  enabled: boolean;
  disabledReason: string | null;
  failingSince: string | null;
  probeBatchId: string | null;
  /** Held batch ids, oldest first. */
  held: string[];
  /** Held batch ids to be sent the release signal, oldest first. */
  toRelease: string[];
  /** When the gate last reopened: a `failing` report from an attempt that started earlier is stale. */
  reopenedAt?: string | null;
}

/** What one run hands to the next: everything that is not configuration. */
export interface CarriedState {
  pending: WebhookEvent[];
  lastCutAt: number;
  recentEventIds: string[];
  updatedAt: string;
  deleting: boolean;
  /** Batches this subscription has cut so far, over all its runs. */
  batchesCut: number;
  gate?: GateState;
}

export interface SubscriptionWorkflowInput {
  partnerId: string;
  subscriptionId: string;
  config: SubscriptionConfig;
  createdAt: string;
  carried?: CarriedState;
  limits?: Partial<RunLimits>;
  /** DELIVERY_BACKOFF_SCALE where the subscription was created: how long a held batch may wait. */
  backoffScale?: number;
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
  readonly gate: GateState;
  readonly backoffScale: number;

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
    this.gate = carried?.gate ?? { enabled: true, disabledReason: null, failingSince: null, probeBatchId: null, held: [], toRelease: [] };
    this.backoffScale = input.backoffScale ?? 1;
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
    // A new url or an explicit re-enable: try the endpoint afresh, with every held batch.
    if (patch.enabled === true) this.enable();
    if (patch.enabled === true || patch.url !== undefined) this.reopen(now);
    if (patch.enabled === false) this.disable(DISABLED_THROUGH_API);
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
    // Held batches get their attempts; from the second one on they find the subscription gone.
    this.gate.toRelease.push(...this.gate.held.splice(0));
    this.wakeups++;
  }

  /**
   * Whether the next batch is held: the endpoint is failing and a probe batch is still trying it.
   * With no probe left (it was exhausted and nothing was held), the next batch becomes the probe.
   */
  holdsNextBatch(): boolean {
    // The last batch of a deleted subscription is attempted: nothing would release it later.
    return !this.deleting && this.gate.failingSince !== null && this.gate.probeBatchId !== null;
  }

  /** Records a held batch. Answers true when that disabled the subscription (the memo must say so). */
  noteHeld(batchId: string): boolean {
    this.gate.held.push(batchId);
    if (this.gate.held.length < MAX_HELD_BATCHES || !this.gate.enabled) return false;
    this.disable(`${MAX_HELD_BATCHES} batches held behind a failing endpoint`);
    return true;
  }

  /** Records a batch started unheld; answers true if it is the probe (the endpoint is failing and had none). */
  noteProbe(batchId: string): boolean {
    if (this.gate.failingSince === null || this.gate.probeBatchId !== null) return false;
    this.gate.probeBatchId = batchId;
    return true;
  }

  /** A report on the endpoint, from an attempt (failing) or a batch's end. Answers whether the gate changed. */
  reportEndpoint(report: EndpointReport): boolean {
    const gate = this.gate;
    switch (report.outcome) {
      case 'failing':
        // An attempt that started before the gate last reopened says nothing about the endpoint now.
        if (gate.failingSince !== null || (gate.reopenedAt && report.at < gate.reopenedAt)) return false;
        gate.failingSince = report.at;
        gate.probeBatchId = report.batchId;
        return true;
      case 'recovered':
        if (gate.failingSince === null) return false;
        this.reopen(report.at);
        return true;
      case 'exhausted': {
        // A batch that ended unattempted (its hold ran out) must never be released as a probe.
        const wasHeld = removeFrom(gate.held, report.batchId) || removeFrom(gate.toRelease, report.batchId);
        if (report.batchId !== gate.probeBatchId) return wasHeld;
        // The endpoint failed every attempt of the probe, about 30 days: stop taking new events.
        this.disable(`the endpoint failed all attempts of batch ${report.batchId} (failing since ${gate.failingSince})`);
        // The oldest held batch probes next, so a returning endpoint still gets the rest.
        const next = gate.held.shift();
        gate.probeBatchId = next ?? null;
        if (next !== undefined) gate.toRelease.push(next);
        this.wakeups++;
        return true;
      }
    }
  }

  /** The endpoint is trusted again: held batches go out, and an automatic disabling ends. */
  private reopen(at: string): void {
    this.gate.reopenedAt = at;
    this.gate.failingSince = null;
    this.gate.probeBatchId = null;
    this.gate.toRelease.push(...this.gate.held.splice(0));
    if (this.gate.disabledReason !== DISABLED_THROUGH_API) this.enable();
    this.wakeups++;
  }

  private enable(): void {
    this.gate.enabled = true;
    this.gate.disabledReason = null;
  }

  private disable(reason: string): void {
    if (!this.gate.enabled) return;
    this.gate.enabled = false;
    this.gate.disabledReason = reason;
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
      backoffScale: this.backoffScale,
      carried: {
        pending: this.pending,
        lastCutAt: this.lastCutAt,
        recentEventIds: [...this.recentIds],
        updatedAt: this.updatedAt,
        deleting: this.deleting,
        batchesCut: this.batchesCut,
        gate: this.gate,
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
      enabled: this.gate.enabled,
      endpointHealth: {
        failingSince: this.gate.failingSince,
        probeBatchId: this.gate.probeBatchId,
        heldBatches: this.gate.held.length + this.gate.toRelease.length,
        disabledReason: this.gate.disabledReason,
      },
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

function removeFrom(list: string[], item: string): boolean {
  const index = list.indexOf(item);
  if (index >= 0) list.splice(index, 1);
  return index >= 0;
}
