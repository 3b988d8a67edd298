/**
 * What the benchmark offers, as data: the load scenarios, the loads of an A/B comparison and of the
 * shedding run, and the cases beside a peer. No I/O here: bench/options.ts checks `--scenario=` and
 * `--loads=` against these names, and its unit test imports them.
 */

export interface Scenario {
  name: string;
  description: string;
  subscriptions: number;
  batching: { windowMs: number; maxEvents: number };
  rate: number;
  failRatio?: number;
  /** Events per request: 1 posts single event objects, more posts arrays. */
  eventsPerRequest?: number;
  /** false: the endpoints refuse every delivery, so the step does not wait for arrivals. */
  expectsDelivery?: false;
  /** How long the load runs; the mode's step length by default. */
  stepSeconds?: number;
  /** The load generator's connections; CONCURRENCY by default. */
  connections?: number;
}

/** The scenarios of a full run (`--quick`: lighter loads, fewer sparse subscriptions). */
export function scenarioList(quick: boolean): Scenario[] {
  return [
    { name: 'hot', description: 'one hot subscription, maxEvents 100, windowMs 1000, single-event requests', subscriptions: 1, batching: { windowMs: 1000, maxEvents: 100 }, rate: quick ? 1000 : 2000 },
    { name: 'hot-array', description: 'the hot subscription, producers posting arrays of 100 events', subscriptions: 1, batching: { windowMs: 1000, maxEvents: 100 }, rate: quick ? 2000 : 5000, eventsPerRequest: 100 },
    { name: 'shared', description: '100 subscriptions sharing the load, windowMs 5000', subscriptions: 100, batching: { windowMs: 5000, maxEvents: 100 }, rate: quick ? 300 : 600 },
    { name: 'sparse', description: 'many subscriptions, sparse traffic (2 events each per 5 s window)', subscriptions: quick ? 100 : 1000, batching: { windowMs: 5000, maxEvents: 100 }, rate: ((quick ? 100 : 1000) * 2) / 5 },
    { name: 'failing', description: 'one subscription whose receiver fails half of the attempts', subscriptions: 1, batching: { windowMs: 1000, maxEvents: 100 }, rate: quick ? 1000 : 2000, failRatio: 0.5 },
  ];
}

export const SCENARIO_NAMES = scenarioList(false).map((s) => s.name);

/** An A/B comparison's two loads of a scenario: one that both sides take, and one beyond what either takes. */
export type ComparisonLoads = Record<string, { moderate: number; overload: number }>;

/**
 * The loads of an A/B comparison by default. `--loads=shared:60/180,sparse:15/45` sets others:
 * spread load fills this machine's two cores at the defaults (every step still settling when it
 * ends), and CPU per event is only a ratio of efficiency below that.
 */
export const COMPARISON_LOADS: ComparisonLoads = {
  hot: { moderate: 600, overload: 3000 },
  'hot-array': { moderate: 1000, overload: 6000 },
  shared: { moderate: 200, overload: 600 },
  sparse: { moderate: 200, overload: 600 },
};

/** `--shedding`: where each scenario's ladder of loads starts (bench/modes/shedding.ts). */
export const SHEDDING_START: Record<string, number> = { hot: 600, 'hot-array': 1000 };

/** One case beside a peer (`--peer=svix`): its shape, and the loads offered to each system. */
export interface PeerCase {
  key: string;
  scenario: Scenario;
  loads: number[];
  warmUp?: false;
}

/**
 * One endpoint, 100 endpoints, one endpoint failing half of its attempts, and many endpoints with
 * sparse traffic (1,000 with windowMs 5,000 at 2 events per endpoint per minute; 10,000 with
 * windowMs 60,000 at one). `--scenario=` picks cases by key.
 */
export function peerCases(quick: boolean): PeerCase[] {
  return [
    { key: 'one', scenario: { name: 'one endpoint', description: 'single-event requests to one endpoint', subscriptions: 1, batching: { windowMs: 1000, maxEvents: 100 }, rate: 0 }, loads: quick ? [300] : [300, 600, 1000, 2000] },
    { key: 'spread', scenario: { name: '100 endpoints', description: 'single-event requests spread over 100 endpoints', subscriptions: 100, batching: { windowMs: 1000, maxEvents: 100 }, rate: 0 }, loads: quick ? [300] : [300, 600, 1000] },
    { key: 'failing', scenario: { name: 'failing half', description: 'one endpoint failing half of its attempts (HTTP 500)', subscriptions: 1, batching: { windowMs: 1000, maxEvents: 100 }, rate: 0, failRatio: 0.5 }, loads: [300] },
    // Sparse: the step covers whole windows, and the subscriptions' creation is the warm-up.
    { key: 'sparse-1k', scenario: { name: '1,000 sparse', description: '1,000 endpoints, 2 events each a minute, windowMs 5,000', subscriptions: 1000, batching: { windowMs: 5000, maxEvents: 100 }, rate: 0, stepSeconds: 60 }, loads: [Math.round((1000 * 2) / 60)], warmUp: false },
    { key: 'sparse-10k', scenario: { name: '10,000 sparse', description: '10,000 endpoints, 1 event each a minute, windowMs 60,000', subscriptions: 10_000, batching: { windowMs: 60_000, maxEvents: 100 }, rate: 0, stepSeconds: 120 }, loads: [Math.round(10_000 / 60)], warmUp: false },
  ];
}

export const PEER_CASE_KEYS = peerCases(false).map((c) => c.key);

/** The scenarios of a run: all of them, or those `--scenario=` names. */
export function chosenScenarios(quick: boolean, names: readonly string[] | undefined): Scenario[] {
  return scenarioList(quick).filter((s) => !names || names.includes(s.name));
}
