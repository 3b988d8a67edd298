import { eventDigest, joinDigests, splitDigests } from '../domain/event-digest';
import { EndpointGate, type EndpointReport, type GateState } from '../domain/endpoint-gate';
import { MAX_BATCH_BYTES } from '../domain/limits';
import { eventBytes, eventsThatFit } from '../domain/payload';
import { retryHorizonMs } from '../domain/schedule';
import { INITIAL_SIGNING, rotated, type SigningState } from '../domain/signing-state';
import type { SubscriptionConfig, SubscriptionConfigPatch, WebhookEvent } from '../domain/schema';
import { nextStep, type Step, type StepInput } from '../domain/subscription-step';
import type { SubscriptionView } from './messages';

export type { GateState } from '../domain/endpoint-gate';

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
  /**
   * Runs started since 2026-11-30 hand over at this many history events: a new worker replays a
   * run whole, ~1.7 ms per event here, and a replay must stay well inside the 10 s workflow task
   * timeout on a loaded machine (docs/performance.md, "Worker restarts"). Runs recorded before
   * keep `historyEvents` (a patch says which).
   */
  shorterRunEvents: number;
}
export const DEFAULT_RUN_LIMITS: RunLimits = { signals: 2_000, batches: 500, historyEvents: 8_000, historyBytes: 8 * 2 ** 20, shorterRunEvents: 2_000 };

/** What one run hands to the next: everything that is not configuration. */
export interface CarriedState {
  pending: WebhookEvent[];
  lastCutAt: number;
  /** Carried by runs before 2026-11-30: the recent ids themselves. */
  recentEventIds?: string[];
  /** The recent ids' digests (domain/event-digest.ts), concatenated, oldest first. */
  recentEventDigests?: string;
  updatedAt: string;
  deleting: boolean;
  /** Batches this subscription has cut so far, over all its runs. */
  batchesCut: number;
  gate?: GateState;
  /** Missing in runs carried over from before signatures: generation 1. */
  signing?: SigningState;
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

/**
 * A subscription's state, behind a small API so the workflow's handlers stay thin: events in,
 * batches out, the endpoint gate (domain/endpoint-gate.ts), and the next step of the main loop
 * (domain/subscription-step.ts).
 */
export class SubscriptionState {
  readonly partnerId: string;
  readonly subscriptionId: string;
  private readonly createdAt: string;
  private readonly limits: RunLimits;
  private readonly backoffScale: number;
  private config: SubscriptionConfig;
  private updatedAt: string;
  private readonly pending: WebhookEvent[];
  /** The JSON size of each pending event, in step with `pending`. */
  private readonly pendingSizes: number[];
  private lastCutAt: number;
  private deleting: boolean;
  /** Bumped whenever the main loop must look again before its timer fires. */
  private wakeupCount = 0;
  private signalsThisRun = 0;
  private cutBytes = 0;
  private batchesThisRun = 0;
  /** Batches cut over all runs: the next batch's sequence number is this plus one. */
  private batchesCutCount: number;
  /** Digests of the last DEDUPE_WINDOW_EVENTS accepted ids, oldest first (a Set keeps insertion order). */
  private readonly recentDigests: Set<string>;
  /**
   * The endpoint gate (domain/endpoint-gate.ts): the workflow asks it directly whether a batch is
   * held, which batches to release, and the endpoint's health. Reports go through
   * `reportEndpoint`, which also wakes the main loop.
   */
  readonly gate: EndpointGate;
  private signing: SigningState;

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
    this.batchesCutCount = carried?.batchesCut ?? 0;
    this.recentDigests = new Set(carried?.recentEventDigests !== undefined ? splitDigests(carried.recentEventDigests) : (carried?.recentEventIds ?? []).map(eventDigest));
    this.gate = new EndpointGate(carried?.gate);
    this.signing = carried?.signing ?? INITIAL_SIGNING;
    this.backoffScale = input.backoffScale ?? 1;
  }

  /** Changes whenever the main loop must look again before its timer fires. */
  get wakeups(): number {
    return this.wakeupCount;
  }

  get pendingCount(): number {
    return this.pending.length;
  }

  /** Signals this run has received (a quiet hand-over waits for the next one). */
  get signalsReceived(): number {
    return this.signalsThisRun;
  }

  get isDeleting(): boolean {
    return this.deleting;
  }

  get url(): string {
    return this.config.url;
  }

  /** Batches cut over all runs: the last batch's sequence number. */
  get batchesCut(): number {
    return this.batchesCutCount;
  }

  /**
   * How long a held batch may wait for its release: twice the retry period (at the scale where the
   * subscription was created), longer than the probe ahead of it can take, so only a batch that
   * nothing will ever release (say, its subscription was terminated) ends this way.
   */
  holdLimitMs(): number {
    return Math.round(2 * retryHorizonMs(this.backoffScale));
  }

  accept(events: readonly WebhookEvent[]): void {
    this.signalsThisRun++;
    const wasEmpty = this.pending.length === 0;
    for (const event of events) {
      const digest = eventDigest(event.id);
      if (this.recentDigests.has(digest)) continue;
      this.remember(digest);
      this.pending.push(event);
      this.pendingSizes.push(eventBytes(event));
    }
    const full = this.pending.length >= this.config.batching.maxEvents || this.fitCount() < this.pending.length;
    if ((wasEmpty && this.pending.length > 0) || full) this.wakeupCount++;
    if (this.signalsThisRun >= this.limits.signals) this.wakeupCount++;
  }

  configure(patch: SubscriptionConfigPatch, now: string): void {
    this.gate.configure(patch, now);
    this.config = {
      url: patch.url ?? this.config.url,
      eventTypes: patch.eventTypes ?? this.config.eventTypes,
      batching: { ...this.config.batching, ...patch.batching },
    };
    this.updatedAt = now;
    this.wakeupCount++;
  }

  /** A new signing secret generation; the previous one keeps signing for 24 hours. */
  rotateSecret(at: Date): SigningState {
    this.signing = rotated(this.signing, at);
    this.updatedAt = at.toISOString();
    return this.signing;
  }

  get signingState(): SigningState {
    return this.signing;
  }

  markDeleting(): void {
    this.deleting = true;
    this.gate.releaseAll();
    this.wakeupCount++;
  }

  /** What the main loop does next (domain/subscription-step.ts). */
  nextStep(
    loop: Pick<StepInput, 'now' | 'childStartsInFlight' | 'childStartsJustSettled' | 'dueToContinue' | 'limitsCarry' | 'limitsTask' | 'quietHandOver' | 'childrenRunning' | 'handOverWaitedMs' | 'justSignalled'>,
  ): Step {
    return nextStep({
      ...loop,
      cutBytesInFlight: this.cutBytes,
      pendingBytes: this.pendingSizes.reduce((sum, size) => sum + size, 0),
      deleting: this.deleting,
      releasesWaiting: this.gate.hasReleases,
      pendingCount: this.pending.length,
      fitCount: this.fitCount(),
      lastCutAt: this.lastCutAt,
      windowMs: this.config.batching.windowMs,
      maxEvents: this.config.batching.maxEvents,
    });
  }

  /** A report on the endpoint, from an attempt (failing) or a batch's end. Answers whether the gate changed. */
  reportEndpoint(report: EndpointReport): boolean {
    const { changed, wake } = this.gate.report(report);
    if (wake) this.wakeupCount++;
    return changed;
  }

  /** Takes the oldest `size` pending events as the next batch and starts the next window. */
  takeBatch(size: number, now: number): WebhookEvent[] {
    this.lastCutAt = now;
    this.batchesThisRun++;
    this.batchesCutCount++;
    this.cutBytes += this.pendingSizes.splice(0, size).reduce((sum, bytes) => sum + bytes, 0);
    return this.pending.splice(0, size);
  }

  /** The child starts of the batches cut so far are confirmed. */
  childStartsSettled(): void {
    this.cutBytes = 0;
  }

  /** How many pending events, oldest first, fit in one batch payload. */
  private fitCount(): number {
    return eventsThatFit(this.pendingSizes, MAX_BATCH_BYTES);
  }

  /**
   * `shorterRuns` says whether this run may use `shorterRunEvents` (a patch in the workflow): asked
   * only once the run is that long, so histories that never got there replay without its marker.
   */
  shouldContinueAsNew(historyLength: number, suggested: boolean, historySize = 0, shorterRuns: () => boolean = () => false): boolean {
    return (
      suggested ||
      historyLength >= this.limits.historyEvents ||
      historySize >= this.limits.historyBytes ||
      this.signalsThisRun >= this.limits.signals ||
      this.batchesThisRun >= this.limits.batches ||
      (historyLength >= this.limits.shorterRunEvents && shorterRuns())
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
        recentEventDigests: joinDigests(this.recentDigests),
        updatedAt: this.updatedAt,
        deleting: this.deleting,
        batchesCut: this.batchesCutCount,
        gate: this.gate.carryOver(),
        signing: this.signing,
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
      endpointHealth: this.gate.health(),
      signing: this.signing,
    };
  }

  private remember(digest: string): void {
    this.recentDigests.add(digest);
    if (this.recentDigests.size > DEDUPE_WINDOW_EVENTS) {
      // A Set iterates in insertion order: the first digest is the oldest.
      const oldest = this.recentDigests.values().next().value;
      if (oldest !== undefined) this.recentDigests.delete(oldest);
    }
  }
}
