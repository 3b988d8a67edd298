import { randomUUID } from 'node:crypto';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import type { Client } from '@temporalio/client';
import type { Config } from '../../platform/config';
import { MAX_EVENT_BYTES, MAX_SIGNAL_BYTES, type EventInput, type WebhookEvent } from '../../domain/schema';
import { subscriptionWorkflowId } from '../../workflows/ids';
import { eventsSignal } from '../../workflows/messages';
import type { EventCatalog } from '../event-catalog';
import type { EventRouter } from '../ingest/event-router';
import type { ApiMetrics } from '../observability';
import { badRequest, notFound, tooLarge, unavailable } from '../../platform/problem';
import { AdmissionControl, type LoopDelay } from '../ingest/admission';
import { SignalCommitter } from '../ingest/signal-committer';
import { isGoneError } from '../../stores/temporal-errors';

/** How long an event request waits for Temporal to record its signal before answering 503. */
const SIGNAL_DEADLINE_MS = 5_000;

/** One accepted event: its id, and how many subscriptions it was routed to. */
export interface AcceptedEvent {
  id: string;
  subscriptions: number;
}

/** What the routes and Depo need from event ingest; tests give the routes an in-memory one. */
export interface EventIngestService {
  /**
   * Checks the events against the event-type catalog (400 naming each failing path, nothing
   * acknowledged), routes each to the partner's subscriptions that want its type, and resolves once
   * Temporal has recorded every signal carrying them: the 202 then means nothing can be lost.
   * `inArray`: the request was an array (problem paths are then `body.<index>.…`).
   */
  publish(partnerId: string, inputs: EventInput[], inArray?: boolean): Promise<AcceptedEvent[]>;
  /** Depo's "send a test event": one `depo.test` event to this subscription only, recorded like any other. */
  sendTestEvent(partnerId: string, subscriptionId: string): Promise<string>;
}

/** Event ingest on Temporal: routing, then group-committed signals (api/ingest/signal-committer.ts). */
export class EventIngest implements EventIngestService {
  private readonly committer: SignalCommitter;
  private readonly shedAfterMs: number;
  private readonly admission: AdmissionControl;

  constructor(
    client: Client,
    config: Config,
    private readonly router: EventRouter,
    private readonly catalog: Pick<EventCatalog, 'checkEvents'>,
    private readonly metrics: ApiMetrics,
  ) {
    this.shedAfterMs = config.ingest.shedAfterMs;
    this.admission = new AdmissionControl({ targetMs: config.ingest.admissionTargetMs, maxInFlight: config.ingest.maxInFlightEvents }, eventLoopDelay());
    this.committer = new SignalCommitter(
      async (workflowId, events) => {
        try {
          // The client retries an unreachable server on its own; a deadline turns a long outage
          // into a prompt 503 (nothing acknowledged: the producer retries under the same ids).
          await client.withDeadline(Date.now() + SIGNAL_DEADLINE_MS, () => client.workflow.getHandle(workflowId).signal(eventsSignal, { events }));
          metrics.signals.inc();
          return true;
        } catch (err) {
          if (isGoneError(err)) return false;
          throw err;
        }
      },
      { minIntervalMs: config.ingest.signalIntervalMs, signalsPerSecond: config.ingest.signalsPerSecond, maxSignalBytes: MAX_SIGNAL_BYTES, shedAfterMs: config.ingest.shedAfterMs },
    );
  }

  async publish(partnerId: string, inputs: EventInput[], inArray = inputs.length !== 1): Promise<AcceptedEvent[]> {
    // The catalog's checks come first: a refused request acknowledges nothing.
    const problems = await this.catalog.checkEvents(inputs, inArray);
    if (problems.length > 0) throw badRequest(`refused by the event-type catalog: ${problems.map((p) => `${p.path}: ${p.message}`).join('; ')}`, problems);
    const sized = inputs.map(toWebhookEvent);
    const ticket = this.admission.admit(sized.length);
    if (ticket === undefined) {
      this.metrics.requestsShed.inc({ reason: 'admission' });
      const { limit } = this.admission.stats();
      throw unavailable(`this API process is at its limit of events in flight (${limit}, lowered while Temporal records events slower than INGEST_ADMISSION_TARGET_MS); nothing of this request is acknowledged: retry it with the same event ids`, 1);
    }
    let counts: number[];
    try {
      counts = await this.routeAndSignal(partnerId, sized);
    } finally {
      this.admission.done(ticket);
    }
    this.metrics.eventsAccepted.inc(sized.length);
    this.metrics.eventsRouted.inc(counts.reduce((sum, n) => sum + n, 0));
    return sized.map(({ event }, i) => ({ id: event.id, subscriptions: counts[i]! }));
  }

  async sendTestEvent(partnerId: string, subscriptionId: string): Promise<string> {
    const { event, bytes } = toWebhookEvent({ type: 'depo.test', data: { message: 'A test event sent from Depo', subscriptionId } }, 0);
    const recorded = await this.committer.submit(subscriptionWorkflowId(partnerId, subscriptionId), [event], [bytes]);
    if (!recorded) throw notFound(`partner ${partnerId} has no subscription ${subscriptionId}`);
    return event.id;
  }

  /**
   * Hands each subscription the events routed to it, in acceptance order, to the group commit.
   * Answers, for each event, how many subscriptions it was routed to.
   */
  private async routeAndSignal(partnerId: string, events: SizedEvent[]): Promise<number[]> {
    const bySubscription = new Map<string, { indexes: number[]; events: WebhookEvent[]; sizes: number[] }>();
    for (const [index, { event, bytes }] of events.entries()) {
      for (const subscriptionId of await this.router.subscriptionsFor(partnerId, event.type)) {
        let group = bySubscription.get(subscriptionId);
        if (!group) bySubscription.set(subscriptionId, (group = { indexes: [], events: [], sizes: [] }));
        group.indexes.push(index);
        group.events.push(event);
        group.sizes.push(bytes);
      }
    }
    // Load shedding: all or nothing, checked for every subscription before any is handed an event.
    const overloaded = [...bySubscription.keys()].find((subscriptionId) => this.committer.overloaded(subscriptionWorkflowId(partnerId, subscriptionId)));
    if (overloaded !== undefined) {
      this.metrics.requestsShed.inc({ reason: 'subscription-behind' });
      throw unavailable(
        `subscription ${overloaded} is behind: Temporal has not answered the last signal to it for ${this.shedAfterMs} ms or more; nothing of this request is acknowledged: retry it with the same event ids`,
        1,
      );
    }
    const counts = events.map(() => 0);
    await Promise.all(
      [...bySubscription].map(async ([subscriptionId, group]) => {
        const recorded = await this.committer.submit(subscriptionWorkflowId(partnerId, subscriptionId), group.events, group.sizes);
        if (!recorded) {
          this.router.noteRemoved(partnerId, subscriptionId);
          return;
        }
        for (const index of group.indexes) counts[index]!++;
      }),
    );
    return counts;
  }
}

interface SizedEvent {
  event: WebhookEvent;
  /** Its size as JSON, in bytes. */
  bytes: number;
}

function toWebhookEvent(input: EventInput, index: number): SizedEvent {
  const event = {
    id: input.id ?? randomUUID(),
    createdAt: input.createdAt ? new Date(input.createdAt).toISOString() : new Date().toISOString(),
    type: input.type,
    data: input.data,
  };
  const bytes = Buffer.byteLength(JSON.stringify(event));
  if (bytes > MAX_EVENT_BYTES) {
    throw tooLarge(`event ${index} is ${bytes} bytes as JSON; the limit for one event is ${MAX_EVENT_BYTES} bytes`);
  }
  return { event, bytes };
}

/** This process's event-loop delay since the last call (99th percentile, ms): a CPU-starved API answers late whatever Temporal does. */
function eventLoopDelay(): LoopDelay {
  const histogram = monitorEventLoopDelay({ resolution: 20 });
  histogram.enable();
  return () => {
    const ms = histogram.count > 0 ? histogram.percentile(99) / 1e6 : 0;
    histogram.reset();
    return ms;
  };
}
