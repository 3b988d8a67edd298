/**
 * The capacity model: what a workload costs, from unit costs measured by the benchmark. Pure, so
 * its arithmetic has unit tests; `npm run capacity` (scripts/tools/capacity.ts) reads the measured
 * figures and prints a plan. docs/capacity.md explains it and shows how well it predicted runs.
 *
 * A workload becomes three rates: requests, signals (the API's group commit, api/ingest/signal-committer.ts)
 * and batches (the batching rule, domain/batching.ts); every cost is then a sum over those rates,
 * the event rate and the subscriptions running (each costs a little every second: the API's
 * routing table lists them all), each with its own unit cost, fitted to measured steps by least
 * squares.
 */

export interface Workload {
  eventsPerSecond: number;
  /** Subscriptions the events spread over, evenly (the common case: partners × endpoints each). */
  subscriptions: number;
  windowMs: number;
  maxEvents: number;
  /** Events per producer request: 1 for single events, up to 1,000 for arrays. */
  eventsPerRequest: number;
  /** INGEST_SIGNAL_INTERVAL_MS: the least time between two signals to one subscription. */
  signalIntervalMs: number;
}

export interface Rates {
  /** The subscriptions running: each costs something every second, events or not (the API's routing table, Temporal's timers). */
  subscriptions: number;
  eventsPerSecond: number;
  requestsPerSecond: number;
  signalsPerSecond: number;
  batchesPerSecond: number;
}

/**
 * Signals and batches a second for a workload, with events arriving at random (Poisson) and spread
 * evenly over the subscriptions:
 * - a subscription's requests that come within the signal interval after its last signal ride
 *   together in the next: r / (1 + r·I) signals a second for r requests a second;
 * - after a batch, the next is cut when the window has passed and an event is pending: a cycle of
 *   W + e^(−λW)/λ for λ events a second; or, when a window holds more than maxEvents, λ / maxEvents.
 */
export function workloadRates(w: Workload): Rates {
  const perSubscription = w.eventsPerSecond / w.subscriptions;
  const requestsPerSubscription = perSubscription / w.eventsPerRequest;
  const interval = w.signalIntervalMs / 1000;
  const window = w.windowMs / 1000;
  const signalsPerSubscription = requestsPerSubscription / (1 + requestsPerSubscription * interval);
  const byWindow = perSubscription > 0 ? 1 / (window + Math.exp(-perSubscription * window) / perSubscription) : 0;
  const batchesPerSubscription = Math.max(perSubscription / w.maxEvents, Math.min(byWindow, perSubscription));
  return {
    subscriptions: w.subscriptions,
    eventsPerSecond: w.eventsPerSecond,
    requestsPerSecond: w.eventsPerSecond / w.eventsPerRequest,
    signalsPerSecond: signalsPerSubscription * w.subscriptions,
    batchesPerSecond: batchesPerSubscription * w.subscriptions,
  };
}

/** A cost as a sum over the rates: so much per request, signal, batch and event, and per subscription each second. */
export interface UnitCost {
  perRequest: number;
  perSignal: number;
  perBatch: number;
  perEvent: number;
  perSubscriptionSecond: number;
}

export const COST_NAMES = ['temporalCpu', 'workerCpu', 'apiCpu', 'actions', 'historyBytes', 'postgresTransactions'] as const;
export type CostName = (typeof COST_NAMES)[number];
/** Measured on a Temporal cluster only: PostgreSQL's transactions (the dev server has none). */
type ClusterOnlyCost = 'postgresTransactions';

/**
 * One measured step: what happened in it and what it cost. Totals over the step or rates per
 * second alike (the fit is linear); `subscriptions` then counts subscription-seconds.
 */
export interface Measured {
  label: string;
  requestsPerSecond: number;
  signalsPerSecond: number;
  batchesPerSecond: number;
  eventsPerSecond: number;
  subscriptions: number;
  costs: Record<Exclude<CostName, ClusterOnlyCost>, number> & Partial<Record<ClusterOnlyCost, number>>;
}

export function costOf(unit: UnitCost, rates: Pick<Rates, 'requestsPerSecond' | 'signalsPerSecond' | 'batchesPerSecond' | 'eventsPerSecond' | 'subscriptions'>): number {
  return unit.perRequest * rates.requestsPerSecond + unit.perSignal * rates.signalsPerSecond + unit.perBatch * rates.batchesPerSecond + unit.perEvent * rates.eventsPerSecond + unit.perSubscriptionSecond * rates.subscriptions;
}

/**
 * The unit costs that best explain the measured steps (least squares on the five terms, no unit
 * cost below zero: a term that would come out negative is dropped and the rest fitted again).
 */
export function fitUnitCost(rows: readonly Measured[], cost: CostName): UnitCost {
  const names = ['perRequest', 'perSignal', 'perBatch', 'perEvent', 'perSubscriptionSecond'] as const;
  const columns = (row: Measured) => [row.requestsPerSecond, row.signalsPerSecond, row.batchesPerSecond, row.eventsPerSecond, row.subscriptions];
  let active = [0, 1, 2, 3, 4];
  for (;;) {
    const solution = leastSquares(
      rows.map((row) => active.map((i) => columns(row)[i]!)),
      rows.map((row) => row.costs[cost] ?? 0),
    );
    const negative = solution.findIndex((value) => value < 0);
    if (negative === -1 || active.length === 1) {
      const unit: UnitCost = { perRequest: 0, perSignal: 0, perBatch: 0, perEvent: 0, perSubscriptionSecond: 0 };
      active.forEach((i, k) => (unit[names[i]!] = Math.max(0, solution[k]!)));
      return unit;
    }
    active = active.filter((_, k) => k !== negative);
  }
}

/** Solves min ‖Ax − b‖ through the normal equations (a handful of unknowns). */
function leastSquares(a: number[][], b: number[]): number[] {
  const n = a[0]?.length ?? 0;
  const m: number[][] = Array.from({ length: n }, (_, i) => [
    ...Array.from({ length: n }, (_, j) => a.reduce((sum, row) => sum + row[i]! * row[j]!, 0)),
    a.reduce((sum, row, r) => sum + row[i]! * b[r]!, 0),
  ]);
  // Gauss-Jordan with partial pivoting.
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let r = col + 1; r < n; r++) if (Math.abs(m[r]![col]!) > Math.abs(m[pivot]![col]!)) pivot = r;
    [m[col], m[pivot]] = [m[pivot]!, m[col]!];
    const p = m[col]![col]!;
    if (Math.abs(p) < 1e-12) continue;
    for (let c = col; c <= n; c++) m[col]![c]! /= p;
    for (let r = 0; r < n; r++) {
      if (r === col) continue;
      const factor = m[r]![col]!;
      for (let c = col; c <= n; c++) m[r]![c]! -= factor * m[col]![c]!;
    }
  }
  return m.map((row) => row[n]!);
}

export type UnitCosts = Record<Exclude<CostName, ClusterOnlyCost>, UnitCost> & Partial<Record<ClusterOnlyCost, UnitCost>>;

/** The costs every row measured: PostgreSQL's transactions only where every step ran on a cluster. */
export function measuredCosts(rows: readonly Measured[]): CostName[] {
  return COST_NAMES.filter((name) => rows.every((row) => row.costs[name] !== undefined));
}

export function fitUnitCosts(rows: readonly Measured[]): UnitCosts {
  return Object.fromEntries(measuredCosts(rows).map((name) => [name, fitUnitCost(rows, name)])) as UnitCosts;
}

/**
 * Each measured step predicted from unit costs fitted to the other steps, leaving out every step
 * of the same `group` (say, the same stack of the benchmark): how far the model is off for a run
 * it was not fitted to.
 */
export function leaveGroupOut(rows: readonly (Measured & { group: string })[], cost: CostName): { label: string; measured: number; predicted: number; error: number }[] {
  return rows.map((row) => {
    const unit = fitUnitCost(
      rows.filter((other) => other.group !== row.group),
      cost,
    );
    const predicted = costOf(unit, row);
    const measured = row.costs[cost] ?? 0;
    return { label: row.label, measured, predicted, error: predicted / measured - 1 };
  });
}

export interface Plan {
  rates: Rates;
  /** CPU cores busy on average, by part. */
  cores: { temporal: number; worker: number; api: number };
  /** Processes (or cores, for Temporal) to run, each kept at `utilization` on average. */
  provision: { temporalCores: number; workerProcesses: number; apiProcesses: number };
  actionsPerSecond: number;
  actionsPerMonth: number;
  historyBytesPerSecond: number;
  /** Where the unit costs came from a cluster: PostgreSQL transactions a second. */
  postgresTransactionsPerSecond?: number;
}

/** What a workload needs, each process kept at `utilization` of a core on average (headroom for bursts). */
export function plan(workload: Workload, units: UnitCosts, utilization = 0.6): Plan {
  const rates = workloadRates(workload);
  const cores = { temporal: costOf(units.temporalCpu, rates), worker: costOf(units.workerCpu, rates), api: costOf(units.apiCpu, rates) };
  const actionsPerSecond = costOf(units.actions, rates);
  return {
    rates,
    cores,
    provision: {
      temporalCores: Math.max(1, Math.ceil(cores.temporal / utilization)),
      // A worker or API process is one Node.js event loop: about one core.
      workerProcesses: Math.max(1, Math.ceil(cores.worker / utilization)),
      apiProcesses: Math.max(1, Math.ceil(cores.api / utilization)),
    },
    actionsPerSecond,
    actionsPerMonth: actionsPerSecond * 30 * 24 * 3600,
    historyBytesPerSecond: costOf(units.historyBytes, rates),
    ...(units.postgresTransactions ? { postgresTransactionsPerSecond: costOf(units.postgresTransactions, rates) } : {}),
  };
}
