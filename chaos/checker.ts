/**
 * The invariant checker: what the producers were told (event ids answered 202) against what the
 * partner received (every request body). Pure: the chaos runner and the tests feed it.
 *
 * It counts four violations, each of which must be 0 once a run has settled:
 * - `undelivered`: an acknowledged event that never arrived in any batch;
 * - `splitEvents`: an event that arrived under more than one `batch_id`;
 * - `changedBatches`: a `batch_id` that arrived with two different bodies;
 * - `ruleViolations`: batches that break the batching rule (empty, `count` ≠ events, more than
 *   `maxEvents`, cut before `windowMs` had passed with fewer than `maxEvents`, or a producer's
 *   events out of their acceptance order).
 * Repeated deliveries of one batch with the same bytes are allowed (at-least-once) and counted.
 */

export interface ReceivedBody {
  /** The raw request body. */
  body: string;
  /** Which subscription's endpoint got it (the receiver tells them apart by path). */
  subscription: string;
  /**
   * Whether the receiver answered it 2xx. A refused request still counts for the same-bytes check,
   * but its events only count as delivered once some request of that batch was answered 2xx.
   */
  accepted?: boolean;
}

export interface BatchingRule {
  maxEvents: number;
  windowMs: number;
}

export interface CheckInput {
  /** Event ids answered 202, per subscription they were routed to. */
  acknowledged: Map<string, Iterable<string>>;
  received: readonly ReceivedBody[];
  rules: Map<string, BatchingRule>;
  /**
   * How to read a producer's place in its own sequence from an event's `data`, for the order check:
   * `[producer, n]`, or undefined for events that carry none.
   */
  orderOf?: (data: unknown) => [string, number] | undefined;
}

export interface Verdict {
  undelivered: number;
  splitEvents: number;
  changedBatches: number;
  ruleViolations: number;
  /** Informational: requests that repeated a batch already received (same bytes). */
  repeatedDeliveries: number;
  acknowledgedEvents: number;
  deliveredEvents: number;
  batches: number;
  /** A few examples of each violation, for the report. */
  examples: string[];
}

interface ParsedBatch {
  batchId: string;
  timestamp: number;
  count: number;
  events: { id: string; data: unknown }[];
  subscription: string;
}

const MAX_EXAMPLES = 10;

export function checkInvariants({ acknowledged, received, rules, orderOf }: CheckInput): Verdict {
  const examples: string[] = [];
  const note = (text: string) => {
    if (examples.length < MAX_EXAMPLES) examples.push(text);
  };
  const bodies = new Map<string, string>();
  const batches: ParsedBatch[] = [];
  let changedBatches = 0;
  let repeatedDeliveries = 0;
  let ruleViolations = 0;

  const acceptedIds = new Set<string>();
  for (const { body, subscription, accepted = true } of received) {
    let batch: ParsedBatch;
    try {
      const parsed = JSON.parse(body) as { batch_id: string; timestamp: string; count: number; events: { id: string; data: unknown }[] };
      batch = { batchId: parsed.batch_id, timestamp: Date.parse(parsed.timestamp), count: parsed.count, events: parsed.events, subscription };
    } catch {
      ruleViolations++;
      note(`a body that is not a batch: ${body.slice(0, 80)}`);
      continue;
    }
    const seen = bodies.get(batch.batchId);
    if (seen === undefined) bodies.set(batch.batchId, body);
    else if (seen !== body) {
      changedBatches++;
      note(`batch ${batch.batchId} arrived with two different bodies`);
      continue;
    }
    if (!accepted) continue;
    if (acceptedIds.has(batch.batchId)) repeatedDeliveries++;
    else {
      acceptedIds.add(batch.batchId);
      batches.push(batch);
    }
  }

  // Each event's batch: more than one batch id for an event is a split.
  const batchOfEvent = new Map<string, string>();
  let splitEvents = 0;
  for (const batch of batches) {
    for (const event of batch.events) {
      const earlier = batchOfEvent.get(`${batch.subscription}/${event.id}`);
      if (earlier === undefined) batchOfEvent.set(`${batch.subscription}/${event.id}`, batch.batchId);
      else if (earlier !== batch.batchId) {
        splitEvents++;
        note(`event ${event.id} arrived in batches ${earlier} and ${batch.batchId}`);
      }
    }
  }

  let undelivered = 0;
  let acknowledgedEvents = 0;
  for (const [subscription, ids] of acknowledged) {
    for (const id of ids) {
      acknowledgedEvents++;
      if (!batchOfEvent.has(`${subscription}/${id}`)) {
        undelivered++;
        note(`event ${id} was acknowledged for ${subscription} and never delivered`);
      }
    }
  }

  const bySubscription = new Map<string, ParsedBatch[]>();
  for (const batch of batches) {
    const own = bySubscription.get(batch.subscription) ?? [];
    own.push(batch);
    bySubscription.set(batch.subscription, own);
  }
  for (const [subscription, own] of bySubscription) {
    const rule = rules.get(subscription);
    for (const problem of batchingProblems(own, rule, orderOf)) {
      ruleViolations++;
      note(`${subscription}: ${problem}`);
    }
  }

  return {
    undelivered,
    splitEvents,
    changedBatches,
    ruleViolations,
    repeatedDeliveries,
    acknowledgedEvents,
    deliveredEvents: batchOfEvent.size,
    batches: batches.length,
    examples,
  };
}

/** The batching rule, checked on one subscription's batches as the partner received them. */
function batchingProblems(batches: ParsedBatch[], rule: BatchingRule | undefined, orderOf: CheckInput['orderOf']): string[] {
  const problems: string[] = [];
  // Batches cut in the same workflow task share a timestamp; their order among themselves is not
  // visible to the partner, so groups of equal timestamps are compared with each other.
  const ordered = [...batches].sort((a, b) => a.timestamp - b.timestamp);
  let previous: ParsedBatch | undefined;
  for (const batch of ordered) {
    if (batch.events.length === 0) problems.push(`batch ${batch.batchId} is empty`);
    if (batch.count !== batch.events.length) problems.push(`batch ${batch.batchId} says count ${batch.count} with ${batch.events.length} events`);
    if (rule && batch.events.length > rule.maxEvents) problems.push(`batch ${batch.batchId} has ${batch.events.length} events, over maxEvents ${rule.maxEvents}`);
    if (rule && previous && batch.timestamp !== previous.timestamp && batch.events.length < rule.maxEvents) {
      const gap = batch.timestamp - previous.timestamp;
      if (gap < rule.windowMs) problems.push(`batch ${batch.batchId} was cut ${gap} ms after the one before with ${batch.events.length} < maxEvents events`);
    }
    previous = batch;
  }
  if (orderOf) problems.push(...orderProblems(ordered, orderOf));
  return problems;
}

/**
 * Acceptance order, as far as the partner can see it: each producer's events arrive in the order it
 * sent them within a batch, and every event of an earlier timestamp group comes before any event
 * of a later one.
 */
function orderProblems(ordered: ParsedBatch[], orderOf: NonNullable<CheckInput['orderOf']>): string[] {
  const problems: string[] = [];
  /** Per producer: the highest position seen in all earlier timestamp groups. */
  const highestBefore = new Map<string, number>();
  let group: ParsedBatch[] = [];
  const closeGroup = () => {
    const highestInGroup = new Map<string, number>();
    for (const batch of group) {
      const lastInBatch = new Map<string, number>();
      for (const event of batch.events) {
        const place = orderOf(event.data);
        if (!place) continue;
        const [producer, n] = place;
        const before = highestBefore.get(producer);
        if (before !== undefined && n < before) problems.push(`event ${event.id} (${producer} #${n}) arrived in a batch after #${before}`);
        const last = lastInBatch.get(producer);
        if (last !== undefined && n < last) problems.push(`event ${event.id} (${producer} #${n}) comes after #${last} in batch ${batch.batchId}`);
        lastInBatch.set(producer, n);
        highestInGroup.set(producer, Math.max(n, highestInGroup.get(producer) ?? n));
      }
    }
    for (const [producer, n] of highestInGroup) highestBefore.set(producer, Math.max(n, highestBefore.get(producer) ?? n));
    group = [];
  };
  for (const batch of ordered) {
    if (group.length > 0 && group[0]!.timestamp !== batch.timestamp) closeGroup();
    group.push(batch);
  }
  closeGroup();
  return problems;
}

export function violations(verdict: Verdict): number {
  return verdict.undelivered + verdict.splitEvents + verdict.changedBatches + verdict.ruleViolations;
}
