/**
 * Admission control for event requests, per API process: past what the stack can record, a request
 * is refused at once (503 with Retry-After) instead of waiting in a queue that makes every
 * producer's 202 late.
 *
 * The limit is on events in flight (accepted by this process, not yet recorded by Temporal), and
 * it adapts. Every interval the controller looks at how long the requests answered in it waited
 * (their 95th percentile: one slow signal, say a subscription's hand-over, is not the stack being
 * behind), at this process's event-loop delay, and at the age of the oldest request still waiting
 * (a stall: twice the target). If any of them passed, the stack is behind: the limit drops to 70% of what was in
 * flight (so a queue that built up drains at once). If none did and the limit was what stopped
 * requests or came near, it grows by 10%. At twice the load a stack takes, the accepted requests
 * keep a 202 near the target and the rest are told to come back.
 *
 * A request is always admitted when nothing is in flight, so one large array is never starved.
 * Pure but for the clock and the event-loop delay it is handed.
 */
export interface AdmissionOptions {
  /** The 202 latency to stay under; Infinity: admission control off. */
  targetMs: number;
  /** Events in flight never exceed this, whatever the latency. */
  maxInFlight: number;
  /** How often the limit is reconsidered. */
  intervalMs?: number;
  /** The least the limit drops to. */
  minLimit?: number;
}

export interface AdmissionStats {
  limit: number;
  inFlight: number;
  refused: number;
}

/** The event-loop delay of this process over the last interval, in milliseconds (its 99th percentile). */
export type LoopDelay = () => number;

const DECREASE = 0.7;
const INCREASE = 1.1;

export class AdmissionControl {
  private limit: number;
  private inFlight = 0;
  private readonly waiting = new Map<number, { events: number; since: number }>();
  private nextTicket = 1;
  private refused = 0;
  /** Over the current interval: how long the answered requests took, the most in flight, whether the limit bit. */
  private answeredMs: number[] = [];
  private peakInFlight = 0;
  private limited = false;
  private intervalStart: number;
  private readonly intervalMs: number;
  private readonly minLimit: number;

  constructor(
    private readonly options: AdmissionOptions,
    private readonly loopDelay: LoopDelay = () => 0,
    private readonly now: () => number = Date.now,
  ) {
    this.limit = options.maxInFlight;
    this.intervalMs = options.intervalMs ?? 250;
    this.minLimit = Math.min(options.minLimit ?? 50, options.maxInFlight);
    this.intervalStart = now();
  }

  /** A ticket to hand back to `done` once the request is answered, or undefined: refuse it. */
  admit(events: number): number | undefined {
    if (this.options.targetMs === Infinity) return 0;
    this.reconsider();
    if (this.inFlight > 0 && this.inFlight + events > this.limit) {
      this.limited = true;
      this.refused++;
      return undefined;
    }
    if (this.inFlight + events > this.limit * 0.9) this.limited = true;
    const ticket = this.nextTicket++;
    this.waiting.set(ticket, { events, since: this.now() });
    this.inFlight += events;
    this.peakInFlight = Math.max(this.peakInFlight, this.inFlight);
    return ticket;
  }

  /** The request of this ticket was answered (or failed). */
  done(ticket: number): void {
    const entry = this.waiting.get(ticket);
    if (!entry) return;
    this.waiting.delete(ticket);
    this.inFlight -= entry.events;
    this.answeredMs.push(this.now() - entry.since);
  }

  stats(): AdmissionStats {
    return { limit: this.limit, inFlight: this.inFlight, refused: this.refused };
  }

  private reconsider(): void {
    const now = this.now();
    if (now - this.intervalStart < this.intervalMs) return;
    // The map keeps insertion order: its first entry is the oldest request still waiting.
    const oldest = this.waiting.values().next().value;
    const oldestMs = oldest ? now - oldest.since : 0;
    const behind = Math.max(percentile95(this.answeredMs), oldestMs / 2, this.loopDelay()) > this.options.targetMs;
    if (behind) {
      this.limit = Math.max(this.minLimit, Math.floor(Math.min(this.limit, this.peakInFlight) * DECREASE));
    } else if (this.limited) {
      this.limit = Math.min(this.options.maxInFlight, Math.ceil(this.limit * INCREASE));
    }
    this.intervalStart = now;
    this.answeredMs = [];
    this.peakInFlight = this.inFlight;
    this.limited = false;
  }
}

function percentile95(values: number[]): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(0.95 * sorted.length))]!;
}
