/**
 * Producers as a careful internal service would write them: each posts single events in its own
 * order, numbered in `data`, and retries an event that was not answered 202 (a refused request, a
 * dropped connection, a 503) with the same `id`, on whichever API is alive, until it is.
 */
import { randomUUID } from 'node:crypto';
import { HARNESS_TOKEN } from '../harness/token';
import { sleep } from '../harness/processes';

export interface ProducerOptions {
  partners: string[];
  /** Producers per partner. */
  perPartner: number;
  /** Events per second, per producer. */
  rate: number;
  /** The APIs alive right now (read before every request). */
  apiUrls: () => string[];
}

export class Producers {
  /** Event ids answered 202, per partner. */
  readonly acknowledged = new Map<string, Set<string>>();
  /** Answers by status (or error code), for the report. */
  readonly answers: Record<string, number> = {};
  /** Requests repeated with an id that had not been answered 202. */
  retries = 0;
  private running = false;
  private loops: Promise<void>[] = [];

  constructor(private readonly options: ProducerOptions) {
    for (const partner of options.partners) this.acknowledged.set(partner, new Set());
  }

  start(): void {
    this.running = true;
    let index = 0;
    for (const partner of this.options.partners) {
      for (let k = 0; k < this.options.perPartner; k++) this.loops.push(this.produce(partner, `${partner}-p${index++}`));
    }
  }

  /** Stops new events; an event already begun is retried until it is acknowledged or `deadlineMs` passes. */
  async stop(deadlineMs = 60_000): Promise<void> {
    this.running = false;
    this.deadline = Date.now() + deadlineMs;
    await Promise.all(this.loops);
  }

  private deadline = Infinity;

  private async produce(partner: string, producer: string): Promise<void> {
    const interval = 1000 / this.options.rate;
    let next = Date.now() + Math.random() * interval;
    for (let n = 0; this.running; n++) {
      const id = randomUUID();
      const body = JSON.stringify({ id, type: 'chaos.tick', data: { producer, n } });
      for (let attempt = 0; ; attempt++) {
        if (attempt > 0) this.retries++;
        if ((await this.post(partner, body)) === 202) {
          this.acknowledged.get(partner)!.add(id);
          break;
        }
        if (Date.now() > this.deadline) return;
        await sleep(Math.min(1000, 100 * 2 ** attempt));
      }
      next += interval;
      const wait = next - Date.now();
      if (wait > 0) await sleep(wait);
      else next = Date.now();
    }
  }

  private turn = 0;

  private async post(partner: string, body: string): Promise<number | undefined> {
    const urls = this.options.apiUrls();
    const api = urls[this.turn++ % Math.max(1, urls.length)];
    if (!api) {
      this.count('no-api');
      return undefined;
    }
    try {
      const response = await fetch(`${api}/v1/partners/${partner}/events`, {
        method: 'POST',
        headers: { authorization: `Bearer ${HARNESS_TOKEN}`, 'content-type': 'application/json' },
        body,
        signal: AbortSignal.timeout(15_000),
      });
      await response.arrayBuffer();
      this.count(String(response.status));
      return response.status;
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause;
      this.count(cause?.code ?? (err as Error).name);
      return undefined;
    }
  }

  private count(key: string): void {
    this.answers[key] = (this.answers[key] ?? 0) + 1;
  }

  acknowledgedCount(): number {
    let total = 0;
    for (const ids of this.acknowledged.values()) total += ids.size;
    return total;
  }
}
