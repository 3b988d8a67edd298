/**
 * The endpoint gate of one subscription, as a pure unit (decision 0004, docs/reliability.md).
 *
 * Once a batch reports its endpoint failing, that batch is the probe and newer batches are held:
 * started, their payload recorded, but not attempted. When any batch gets through, the held ones
 * are released, oldest first. When the probe fails all its attempts, the subscription is disabled
 * and the oldest held batch probes next. The state is plain data carried across continue-as-new:
 * its shape must not change, or runs carried over from older code would not load.
 */

/** The most batches held behind a failing endpoint's probe. Reaching it disables the subscription. */
export const MAX_HELD_BATCHES = 5_000;

/** The disabled reason an operator's PATCH gives; only an operator's enable clears it. */
export const DISABLED_THROUGH_API = 'disabled through the API';

/** The gate's state, carried across continue-as-new. */
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

/** What a delivery attempt tells its subscription about the endpoint (only on a change). */
export interface EndpointReport {
  batchId: string;
  /** `failing`: a batch failed its third attempt; `exhausted`: the probe failed its last; `recovered`: a failing batch got through. */
  outcome: 'failing' | 'exhausted' | 'recovered';
  at: string;
  error?: string;
}

/** The gate as the API shows it. */
export interface EndpointHealth {
  /** When the probe batch reported the endpoint failing; null while it works. */
  failingSince: string | null;
  probeBatchId: string | null;
  /** Batches cut and waiting behind the probe. */
  heldBatches: number;
  /** Why delivery is disabled, when it is. */
  disabledReason: string | null;
}

/**
 * What a report did. `changed`: the gate's visible state changed (the memo must follow).
 * `wake`: the subscription's loop has work now (batches to release).
 */
export interface GateChange {
  changed: boolean;
  wake: boolean;
}

export class EndpointGate {
  private readonly state: GateState;

  constructor(carried?: GateState) {
    this.state = carried ?? { enabled: true, disabledReason: null, failingSince: null, probeBatchId: null, held: [], toRelease: [] };
  }

  get enabled(): boolean {
    return this.state.enabled;
  }

  /** Whether held batches wait for their release signal. */
  get hasReleases(): boolean {
    return this.state.toRelease.length > 0;
  }

  /** The oldest `max` batches to release, taken off the list. */
  takeReleases(max: number): string[] {
    return this.state.toRelease.splice(0, max);
  }

  /**
   * Whether the next batch is held: the endpoint is failing and a probe batch is still trying it.
   * With no probe left (it was exhausted and nothing was held), the next batch becomes the probe.
   * The last batch of a deleted subscription is attempted: nothing would release it later.
   */
  holdsNextBatch(deleting: boolean): boolean {
    return !deleting && this.state.failingSince !== null && this.state.probeBatchId !== null;
  }

  /** Records a held batch. Answers true when that disabled the subscription (the memo must say so). */
  noteHeld(batchId: string): boolean {
    this.state.held.push(batchId);
    if (this.state.held.length < MAX_HELD_BATCHES || !this.state.enabled) return false;
    this.disable(`${MAX_HELD_BATCHES} batches held behind a failing endpoint`);
    return true;
  }

  /** Records a batch started unheld; answers true if it is the probe (the endpoint is failing and had none). */
  noteProbe(batchId: string): boolean {
    if (this.state.failingSince === null || this.state.probeBatchId !== null) return false;
    this.state.probeBatchId = batchId;
    return true;
  }

  /** A report on the endpoint, from an attempt (failing) or a batch's end. */
  report(report: EndpointReport): GateChange {
    const gate = this.state;
    switch (report.outcome) {
      case 'failing':
        // An attempt that started before the gate last reopened says nothing about the endpoint now.
        if (gate.failingSince !== null || (gate.reopenedAt && report.at < gate.reopenedAt)) return NO_CHANGE;
        gate.failingSince = report.at;
        gate.probeBatchId = report.batchId;
        return { changed: true, wake: false };
      case 'recovered':
        if (gate.failingSince === null) return NO_CHANGE;
        this.reopen(report.at);
        return { changed: true, wake: true };
      case 'exhausted': {
        // A batch that ended unattempted (its hold ran out) must never be released as a probe.
        const wasHeld = removeFrom(gate.held, report.batchId) || removeFrom(gate.toRelease, report.batchId);
        if (report.batchId !== gate.probeBatchId) return { changed: wasHeld, wake: false };
        // The endpoint failed every attempt of the probe, about 30 days: stop taking new events.
        this.disable(`the endpoint failed all attempts of batch ${report.batchId} (failing since ${gate.failingSince})`);
        // The oldest held batch probes next, so a returning endpoint still gets the rest.
        const next = gate.held.shift();
        gate.probeBatchId = next ?? null;
        if (next !== undefined) gate.toRelease.push(next);
        return { changed: true, wake: true };
      }
    }
  }

  /**
   * An operator's change. A new url or an explicit enable tries the endpoint afresh, with every
   * held batch; a disable stays until an operator enables again.
   */
  configure(patch: { enabled?: boolean; url?: string }, now: string): void {
    if (patch.enabled === true) this.enable();
    if (patch.enabled === true || patch.url !== undefined) this.reopen(now);
    if (patch.enabled === false) this.disable(DISABLED_THROUGH_API);
  }

  /** The subscription is being deleted: held batches get their attempts (from the second one on they find it gone). */
  releaseAll(): void {
    this.state.toRelease.push(...this.state.held.splice(0));
  }

  health(): EndpointHealth {
    const { failingSince, probeBatchId, held, toRelease, disabledReason } = this.state;
    return { failingSince, probeBatchId, heldBatches: held.length + toRelease.length, disabledReason };
  }

  /** The state to carry across continue-as-new. */
  carryOver(): GateState {
    return this.state;
  }

  /** The endpoint is trusted again: held batches go out, and an automatic disabling ends. */
  private reopen(at: string): void {
    this.state.reopenedAt = at;
    this.state.failingSince = null;
    this.state.probeBatchId = null;
    this.releaseAll();
    if (this.state.disabledReason !== DISABLED_THROUGH_API) this.enable();
  }

  private enable(): void {
    this.state.enabled = true;
    this.state.disabledReason = null;
  }

  private disable(reason: string): void {
    if (!this.state.enabled) return;
    this.state.enabled = false;
    this.state.disabledReason = reason;
  }
}

const NO_CHANGE: GateChange = { changed: false, wake: false };

function removeFrom(list: string[], item: string): boolean {
  const index = list.indexOf(item);
  if (index >= 0) list.splice(index, 1);
  return index >= 0;
}
