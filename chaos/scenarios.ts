/**
 * Fault scenarios: steady load from retrying producers, one fault (or a sequence of them) in the
 * middle, then the run settles and the invariant checker judges it. Loopback only, bounded in
 * time and traffic.
 */
import { checkInvariants, violations, type BatchingRule, type ReceivedBody, type Verdict } from './checker';
import { HARNESS_TOKEN } from '../harness/token';
import { sleep } from '../harness/processes';
import { Cluster, type ClusterShape, type ReceiverMode } from './cluster';
import { batchesByVersion, deployUnderLoad, recoveryProgress, scheduleProblems, workflowTaskFailures } from './deploy';
import { Producers } from './producers';

export interface ScenarioOptions {
  /** How long the producers offer load, in ms. */
  loadMs: number;
  /** How long the run may take to settle after the load stops, in ms. */
  settleMs: number;
}

export interface Scenario {
  name: string;
  summary: string;
  shape: ClusterShape;
  /** Partners beyond the three every scenario has (one subscription each). */
  extraPartners?: string[];
  /** Partners with a subscription (and the same batching rule) that the producers leave alone: the faults post to them. */
  quietPartners?: string[];
  /**
   * Runs while the producers post; `at(ms)` waits until that many ms after the load started. The
   * load goes on until it returns. It may return checks of its own for once the run has settled.
   */
  faults: (cluster: Cluster, at: (ms: number) => Promise<void>, options: ScenarioOptions, notes: string[]) => Promise<void | AfterSettle>;
}

/** A scenario's own checks once the run has settled: each problem counts as a violation. */
export interface AfterSettle {
  check: (cluster: Cluster, notes: string[]) => Promise<string[]>;
  cleanup: () => void;
}

export interface ScenarioResult {
  name: string;
  verdict: Verdict;
  violations: number;
  answers: Record<string, number>;
  retries: number;
  settledInMs: number | null;
  notes: string[];
}

const RULE: BatchingRule = { windowMs: 1000, maxEvents: 20 };
const PARTNERS = ['chaos-a', 'chaos-b', 'chaos-c'];

export const scenarios: Scenario[] = [
  {
    name: 'worker-kill',
    summary: 'kill -9 of the only worker in the middle of deliveries, then a new one',
    shape: { workers: 1, apis: 1 },
    async faults(cluster, at, { loadMs }, notes) {
      // Slow answers keep deliveries in flight when the worker dies.
      cluster.receiverDelayMs = 400;
      await at(loadMs * 0.3);
      const inFlight = await cluster.waitForInFlight();
      await cluster.killWorker(0);
      notes.push(`requests in flight at the receiver when the worker was killed: ${inFlight}`);
      await at(loadMs * 0.45);
      cluster.startWorker();
    },
  },
  {
    name: 'server-restart',
    summary: 'kill -9 of the Temporal dev server, restarted on its SQLite file: the API answers 503 meanwhile',
    shape: { workers: 1, apis: 1 },
    async faults(cluster, at, { loadMs }, notes) {
      await at(loadMs * 0.3);
      await cluster.killTemporal();
      await sleep(1000);
      const [api] = cluster.apiUrls();
      const health = await fetch(`${api}/healthz`).then((r) => r.status).catch(() => 0);
      notes.push(`/healthz while the server was down: ${health}`);
      await at(loadMs * 0.5);
      await cluster.startTemporal();
    },
  },
  {
    name: 'api-kill',
    summary: 'kill -9 of the only API in the middle of requests, then a new one; producers retry under the same ids',
    shape: { workers: 1, apis: 1 },
    async faults(cluster, at, { loadMs }) {
      await at(loadMs * 0.3);
      await cluster.killApi(0);
      await at(loadMs * 0.4);
      await cluster.startApi();
    },
  },
  {
    name: 'receiver-faults',
    summary: 'the receiver answers 500, hangs, resets, sends half a response, redirects, fails the TLS handshake, then recovers',
    shape: { workers: 1, apis: 1 },
    async faults(cluster, at, { loadMs }) {
      const modes = (process.env.CHAOS_RECEIVER_MODES?.split(',') ?? ['500', 'hang', 'reset', 'half-body', 'redirect', 'tls']) as ReceiverMode[];
      for (const [i, mode] of modes.entries()) {
        await at(loadMs * (0.1 + (0.8 * i) / modes.length));
        cluster.setReceiverMode(mode);
      }
      await at(loadMs * 0.9);
      cluster.setReceiverMode('ok');
    },
  },
  {
    name: 'two-and-two',
    summary: 'two workers and two APIs; kill -9 of one of each in the middle of the load',
    shape: { workers: 2, apis: 2 },
    async faults(cluster, at, { loadMs }, notes) {
      cluster.receiverDelayMs = 400;
      await at(loadMs * 0.4);
      const inFlight = await cluster.waitForInFlight();
      await Promise.all([cluster.killWorker(0), cluster.killApi(0)]);
      notes.push(`requests in flight at the receiver when worker 0 was killed: ${inFlight}`);
    },
  },
  {
    name: 'dead-endpoint',
    summary: "one partner's endpoint answers 503 for the whole load, then comes back: growth measured, then everything delivered",
    shape: { workers: 1, apis: 1 },
    extraPartners: ['chaos-dead'],
    async faults(cluster, at, { loadMs }, notes) {
      const path = '/hook/chaos-dead';
      const subscriptionId = cluster.subscriptionIds.get('chaos-dead')!;
      cluster.failingPaths.add(path);
      const started = cluster.serverResources();
      notes.push('   s  requests  batches running  held  server RSS MiB  server CPU s  SQLite MiB');
      for (let step = 1; step <= 6; step++) {
        await at((loadMs * step) / 6);
        const requests = cluster.log.filter((entry) => entry.path === path).length;
        const running = await cluster.client.workflow.count(`WebhookSubscriptionId = '${subscriptionId}' AND WorkflowType = 'deliveryWorkflow' AND ExecutionStatus = 'Running'`);
        const [api] = cluster.apiUrls();
        const view = (await fetch(`${api}/v1/partners/chaos-dead/subscriptions/${subscriptionId}`, { headers: { authorization: `Bearer ${HARNESS_TOKEN}` } }).then((r) => r.json())) as { endpointHealth?: { heldBatches: number } };
        const server = cluster.serverResources();
        notes.push(
          `${String(Math.round((loadMs * step) / 6000)).padStart(4)}${String(requests).padStart(10)}${String(running.count).padStart(17)}` +
            `${String(view.endpointHealth?.heldBatches ?? '?').padStart(6)}${String(server.rssMb).padStart(16)}${(server.cpuSeconds - started.cpuSeconds).toFixed(1).padStart(14)}${String(server.dbMb).padStart(12)}`,
        );
      }
      cluster.failingPaths.delete(path);
      notes.push('the endpoint is back');
    },
  },
  deployScenario('dev'),
];

/**
 * The deploy drill (chaos/deploy.ts) on `temporal`: v2 rolled out, v1 drained and stopped, rolled
 * back and forward again, under load, with batches in retry and held and a recovery running.
 */
function deployScenario(temporal: 'dev' | 'cluster'): Scenario {
  return {
    name: temporal === 'dev' ? 'deploy' : 'deploy-cluster',
    summary: 'a new version of the workflow code rolled out under load with Worker Versioning, the old one drained and stopped, rolled back, rolled forward',
    shape: { workers: 1, apis: 1, temporal },
    extraPartners: ['chaos-dead'],
    quietPartners: ['chaos-recovery'],
    async faults(cluster, _at, _options, notes) {
      const drill = await deployUnderLoad(cluster, notes);
      return {
        cleanup: drill.remove,
        async check(settled, checkNotes) {
          const problems: string[] = [];
          const { before, after } = drill.recovery;
          if (before.behavior !== 'PINNED' || before.buildId !== drill.v1 || after.buildId !== drill.v1) {
            problems.push(`the recovery was not pinned to v1 across the deploy: ${JSON.stringify(drill.recovery)}`);
          }
          const recovery = await recoveryProgress(settled);
          checkNotes.push(`recovery: ${recovery.status}, ${recovery.redelivered} redelivered, ${recovery.delivered} delivered`);
          if (recovery.status !== 'done' || recovery.delivered !== 1) problems.push(`the recovery did not deliver its batch: ${JSON.stringify(recovery)}`);
          const batches = await batchesByVersion(settled, drill.rollbackWindow);
          checkNotes.push(`batches cut by v2: ${batches.v2}, by v1: ${batches.unmarked}; cut while rolled back: ${batches.inRollback}, of them by v2: ${batches.markedInRollback}`);
          if (batches.v2 === 0) problems.push('no batch was cut by v2: the new version never ran');
          if (batches.inRollback === 0 || batches.markedInRollback > 0) problems.push('the rollback did not move the subscriptions back to v1');
          const late = scheduleProblems(settled.log, Number(settled.env.DELIVERY_BACKOFF_SCALE), ['/hook/chaos-recovery']);
          const retried = new Set(settled.log.filter((request) => request.attempt > 1).map((request) => request.body)).size;
          checkNotes.push(`batches retried: ${retried}; attempts out of their schedule: ${late.length}`);
          problems.push(...late.slice(0, 10));
          const failures = await workflowTaskFailures(settled, drill.recovery.terminatedBatch);
          checkNotes.push(`workflow task failures in every history: ${failures.length}`);
          problems.push(...failures);
          return problems;
        },
      };
    },
  };
}

/** A fault in one process of a Temporal cluster: kill it in the middle of the load, start it again later. */
function clusterProcessCrash(name: 'history' | 'matching' | 'postgres', summary: string): Scenario {
  return {
    name: name === 'postgres' ? 'postgres-restart' : `${name}-kill`,
    summary,
    shape: { workers: 1, apis: 1, temporal: 'cluster' },
    async faults(cluster, at, { loadMs }, notes) {
      cluster.receiverDelayMs = 200;
      await at(loadMs * 0.3);
      await cluster.killClusterProcess(name);
      const killedAt = Date.now();
      await sleep(1000);
      const [api] = cluster.apiUrls();
      const health = await fetch(`${api}/healthz`).then((r) => r.status).catch(() => 0);
      notes.push(`/healthz with ${name} down: ${health}`);
      await at(loadMs * 0.5);
      await cluster.restartClusterProcess(name);
      notes.push(`${name} was down for ${((Date.now() - killedAt) / 1000).toFixed(1)} s`);
    },
  };
}

/** The same steady load and checker on a Temporal cluster (PostgreSQL, four services, mTLS): a crash of each stateful part. */
export const clusterScenarios: Scenario[] = [
  clusterProcessCrash('history', 'kill -9 of the history service (the shards\' owner) in the middle of the load, then a new one'),
  clusterProcessCrash('matching', 'kill -9 of the matching service (task queues) in the middle of the load, then a new one'),
  clusterProcessCrash('postgres', 'PostgreSQL crashes (immediate shutdown) in the middle of the load and is started again'),
  deployScenario('cluster'),
];

export async function runScenario(scenario: Scenario, options: ScenarioOptions, log: (line: string) => void = () => undefined): Promise<ScenarioResult> {
  const cluster = await Cluster.start(scenario.shape);
  const notes: string[] = [];
  let afterSettle: AfterSettle | undefined;
  try {
    const partners = [...PARTNERS, ...(scenario.extraPartners ?? [])];
    const quiet = scenario.quietPartners ?? [];
    for (const partner of [...partners, ...quiet]) await cluster.createSubscription(partner, RULE);
    const producers = new Producers({ partners, perPartner: 4, rate: 5, apiUrls: () => cluster.apiUrls() });
    const started = Date.now();
    const at = (ms: number) => sleep(Math.max(0, started + ms - Date.now()));
    producers.start();
    log(`${scenario.name}: load for ${options.loadMs / 1000} s`);
    afterSettle = (await scenario.faults(cluster, at, options, notes)) ?? undefined;
    await at(options.loadMs);
    await producers.stop();
    log(`${scenario.name}: ${producers.acknowledgedCount()} events acknowledged; settling`);

    const judge = () =>
      checkInvariants({
        acknowledged: producers.acknowledged,
        received: cluster.log.map((entry): ReceivedBody => ({ body: entry.body, subscription: partnerOf(entry.path), accepted: entry.accepted })),
        rules: new Map([...partners, ...quiet].map((partner) => [partner, RULE])),
        orderOf,
      });
    const settleStarted = Date.now();
    let settledInMs: number | null = null;
    while (Date.now() - settleStarted < options.settleMs) {
      if (judge().undelivered === 0) {
        settledInMs = Date.now() - settleStarted;
        break;
      }
      await sleep(500);
    }
    // A little longer, so a late duplicate or a changed body would still be seen.
    await sleep(2000);
    const verdict = judge();
    const problems = (await afterSettle?.check(cluster, notes)) ?? [];
    verdict.examples.push(...problems);
    return { name: scenario.name, verdict, violations: violations(verdict) + problems.length, answers: producers.answers, retries: producers.retries, settledInMs, notes };
  } finally {
    await cluster.stop();
    afterSettle?.cleanup();
  }
}

function partnerOf(path: string): string {
  return /^\/hook\/([^/?]+)/.exec(path)?.[1] ?? path;
}

function orderOf(data: unknown): [string, number] | undefined {
  const { producer, n } = (data ?? {}) as { producer?: unknown; n?: unknown };
  return typeof producer === 'string' && typeof n === 'number' ? [producer, n] : undefined;
}
