import type { WebhookEvent } from '../../domain/schema';

/**
 * Group commit of events into signals. Temporal advises about 5 signals a second, sustained, to
 * one workflow, and refuses a run's 10,001st: so all the events that concurrent requests send to
 * one subscription while a signal is in flight, or within the interval after the last one, go out
 * together in the next signal. Each request's promise settles when the signal carrying its last
 * event does: a 202 then means Temporal has recorded all of them. Order of submission is kept.
 *
 * The interval is `minIntervalMs`, longer when this process signals many subscriptions at once:
 * then all of them together stay near `signalsPerSecond` (each subscription's interval is the
 * number of subscriptions signalled lately divided by that budget, at most MAX_INTERVAL_MS). Spread
 * load, a few events a second to each of many subscriptions, then carries several events per
 * signal instead of one: a signal costs Temporal a history event and a workflow task whatever it
 * carries.
 */
export interface CommitterOptions {
  /** The least time between two signals to one subscription from this process. */
  minIntervalMs: number;
  /** Signals a second this process aims to stay near, over all subscriptions (Infinity: no budget). */
  signalsPerSecond?: number;
  /** The most serialized event bytes one signal carries (Temporal refuses payloads over 2 MB). */
  maxSignalBytes: number;
  /**
   * A subscription is overloaded once Temporal has not answered its signal in flight for this long
   * (or an event has waited this long past the interval): `overloaded()` then says so, and the
   * caller refuses new events for it rather than queue them behind a stalled signal. Infinity: never.
   */
  shedAfterMs?: number;
}

/** The longest the signal budget stretches a subscription's interval: the 202 waits at most this plus one signal. */
export const MAX_INTERVAL_MS = 750;

/** Sends one signal. Resolves `false` when the subscription no longer exists. */
export type SendSignal = (key: string, events: WebhookEvent[]) => Promise<boolean>;

interface Entry {
  events: WebhookEvent[];
  bytes: number;
  queuedAt: number;
  settle: (outcome: { delivered: boolean } | { error: unknown }) => void;
}

interface Lane {
  queue: Entry[];
  inFlight: boolean;
  timer: ReturnType<typeof setTimeout> | undefined;
  lastSentAt: number;
}

export interface CommitterStats {
  signals: number;
  events: number;
}

export class SignalCommitter {
  private readonly lanes = new Map<string, Lane>();
  readonly stats: CommitterStats = { signals: 0, events: 0 };

  constructor(
    private readonly send: SendSignal,
    private readonly options: CommitterOptions,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Queues events for one subscription (`key`), in order. Resolves true once all are recorded,
   * false if the subscription turned out to be gone; rejects if a signal failed.
   */
  async submit(key: string, events: WebhookEvent[], sizes: number[]): Promise<boolean> {
    const chunks = this.chunk(events, sizes);
    const lane = this.lane(key);
    const outcomes = chunks.map(
      (chunk) =>
        new Promise<boolean>((resolve, reject) => {
          lane.queue.push({
            ...chunk,
            queuedAt: this.now(),
            settle: (outcome) => {
              if (!('error' in outcome)) resolve(outcome.delivered);
              else reject(outcome.error instanceof Error ? outcome.error : new Error(String(outcome.error)));
            },
          });
        }),
    );
    this.schedule(key, lane);
    const results = await Promise.all(outcomes);
    return results.every(Boolean);
  }

  /**
   * Whether events for `key` should be refused for now: Temporal has not answered its signal in
   * flight for `shedAfterMs` or more, or a queued event has waited that long past the interval.
   * Synchronous, so that a request can check all its subscriptions before it submits to any.
   */
  overloaded(key: string): boolean {
    const lane = this.lanes.get(key);
    const limit = this.options.shedAfterMs ?? Infinity;
    if (!lane || limit === Infinity) return false;
    const now = this.now();
    if (lane.inFlight && now - lane.lastSentAt >= limit) return true;
    const oldest = lane.queue[0]?.queuedAt;
    return oldest !== undefined && now - oldest >= this.interval() + limit;
  }

  /** The least time between two signals to one subscription, given how many are being signalled. */
  interval(): number {
    const { minIntervalMs, signalsPerSecond = Infinity } = this.options;
    return Math.max(minIntervalMs, Math.min(MAX_INTERVAL_MS, (1000 * this.lanes.size) / signalsPerSecond));
  }

  private chunk(events: WebhookEvent[], sizes: number[]): { events: WebhookEvent[]; bytes: number }[] {
    const chunks: { events: WebhookEvent[]; bytes: number }[] = [];
    let current: { events: WebhookEvent[]; bytes: number } = { events: [], bytes: 0 };
    events.forEach((event, i) => {
      const size = sizes[i]!;
      if (current.events.length > 0 && current.bytes + size > this.options.maxSignalBytes) {
        chunks.push(current);
        current = { events: [], bytes: 0 };
      }
      current.events.push(event);
      current.bytes += size;
    });
    if (current.events.length > 0) chunks.push(current);
    return chunks;
  }

  private lane(key: string): Lane {
    let lane = this.lanes.get(key);
    if (!lane) {
      lane = { queue: [], inFlight: false, timer: undefined, lastSentAt: -Infinity };
      this.lanes.set(key, lane);
    }
    return lane;
  }

  /**
   * Sends now if the lane may, or arms its one timer for when it may. An idle lane keeps its timer
   * until the interval has passed, so that its last send time is remembered that long, then goes.
   */
  private schedule(key: string, lane: Lane): void {
    if (lane.inFlight || lane.timer) return;
    const wait = lane.lastSentAt + this.interval() - this.now();
    if (wait <= 0) {
      if (lane.queue.length > 0) void this.flush(key, lane);
      else this.lanes.delete(key);
      return;
    }
    lane.timer = setTimeout(() => {
      lane.timer = undefined;
      this.schedule(key, lane);
    }, wait);
  }

  private async flush(key: string, lane: Lane): Promise<void> {
    const taken: Entry[] = [];
    let bytes = 0;
    while (lane.queue.length > 0) {
      const next = lane.queue[0]!;
      if (taken.length > 0 && bytes + next.bytes > this.options.maxSignalBytes) break;
      taken.push(lane.queue.shift()!);
      bytes += next.bytes;
    }
    lane.inFlight = true;
    lane.lastSentAt = this.now();
    const events = taken.flatMap((entry) => entry.events);
    try {
      const delivered = await this.send(key, events);
      this.stats.signals++;
      this.stats.events += events.length;
      for (const entry of taken) entry.settle({ delivered });
    } catch (error) {
      for (const entry of taken) entry.settle({ error });
    } finally {
      lane.inFlight = false;
      this.schedule(key, lane);
    }
  }
}
