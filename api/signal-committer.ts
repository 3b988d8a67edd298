import type { WebhookEvent } from '../domain/schema';

/**
 * Group commit of events into signals. Temporal advises about 5 signals a second, sustained, to
 * one workflow, and refuses a run's 10,001st: so all the events that concurrent requests send to
 * one subscription while a signal is in flight, or within `minIntervalMs` of the last one, go out
 * together in the next signal. Each request's promise settles when the signal carrying its last
 * event does: a 202 then means Temporal has recorded all of them. Order of submission is kept.
 */
export interface CommitterOptions {
  /** The least time between two signals to one subscription from this process. */
  minIntervalMs: number;
  /** The most serialized event bytes one signal carries (Temporal refuses payloads over 2 MB). */
  maxSignalBytes: number;
  /**
   * A subscription is overloaded once its oldest event not yet recorded has waited this long:
   * `overloaded()` then says so, and the caller refuses new events for it rather than queue them
   * behind a stalled signal. Infinity: never.
   */
  shedAfterMs?: number;
}

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
  /** When the oldest entry of the signal in flight was queued. */
  inFlightSince: number;
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
   * Whether events for `key` should be refused for now: its oldest event not yet recorded by
   * Temporal (in the signal in flight, or queued) has waited `shedAfterMs` or more. Synchronous, so
   * that a request can check all its subscriptions before it submits to any.
   */
  overloaded(key: string): boolean {
    const lane = this.lanes.get(key);
    if (!lane) return false;
    const oldest = Math.min(lane.inFlight ? lane.inFlightSince : Infinity, lane.queue[0]?.queuedAt ?? Infinity);
    return this.now() - oldest >= (this.options.shedAfterMs ?? Infinity);
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
      lane = { queue: [], inFlight: false, inFlightSince: Infinity, timer: undefined, lastSentAt: -Infinity };
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
    const wait = lane.lastSentAt + this.options.minIntervalMs - this.now();
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
    lane.inFlightSince = taken[0]!.queuedAt;
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
