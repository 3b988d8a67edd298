import { describe, expect, it } from 'vitest';
import { costOf, fitUnitCost, fitUnitCosts, leaveGroupOut, plan, workloadRates, type Measured, type Workload } from '../../domain/capacity';

/** The capacity model: a workload's rates, unit costs fitted to measured steps, and a plan. */
describe('the capacity model', () => {
  const hot: Workload = { eventsPerSecond: 600, subscriptions: 1, windowMs: 1_000, maxEvents: 100, eventsPerRequest: 1, signalIntervalMs: 100 };

  it('groups a hot subscription’s requests into about one signal per interval, and cuts full batches', () => {
    const rates = workloadRates(hot);
    expect(rates.requestsPerSecond).toBe(600);
    expect(rates.signalsPerSecond).toBeCloseTo(600 / 61, 5);
    expect(rates.batchesPerSecond).toBe(6);
  });

  it('gives a sparse subscription a signal per event and a batch per window that has an event', () => {
    const sparse = workloadRates({ ...hot, eventsPerSecond: 200, subscriptions: 1_000, windowMs: 5_000 });
    // 0.2 events/s each: almost every event its own signal.
    expect(sparse.signalsPerSecond / 200).toBeGreaterThan(0.97);
    // A cycle is the 5 s window plus, when it caught nothing (e^-1 of the time), the wait for an event.
    expect(sparse.batchesPerSecond).toBeCloseTo(1_000 / (5 + Math.exp(-1) / 0.2), 5);
    // Arrays of 100: a hundredth of the requests.
    expect(workloadRates({ ...hot, eventsPerRequest: 100 }).requestsPerSecond).toBe(6);
  });

  const truth = { perRequest: 0.0002, perSignal: 0.004, perBatch: 0.03, perEvent: 0.0005, perSubscriptionSecond: 0.00002 };
  const step = (scenario: string, signals: number, batches: number, events: number, subscriptions: number, requests = events): Measured & { scenario: string } => ({
    scenario,
    label: scenario,
    requestsPerSecond: requests,
    signalsPerSecond: signals,
    batchesPerSecond: batches,
    eventsPerSecond: events,
    subscriptions,
    costs: { temporalCpu: costOf(truth, { requestsPerSecond: requests, signalsPerSecond: signals, batchesPerSecond: batches, eventsPerSecond: events, subscriptions }), workerCpu: 0, apiCpu: 0, actions: signals + 2 * batches, historyBytes: 0 },
  });
  const steps = [step('hot', 100, 60, 6_000, 15), step('hot-array', 20, 100, 10_000, 20, 100), step('shared', 3_000, 400, 3_000, 1_500), step('sparse', 3_000, 2_000, 3_000, 15_000), step('failing', 500, 50, 2_000, 300), step('bursts', 40, 200, 5_000, 40, 500)];

  it('recovers the unit costs that produced the measured steps', () => {
    const fitted = fitUnitCost(steps, 'temporalCpu');
    expect(fitted.perSignal).toBeCloseTo(truth.perSignal, 8);
    expect(fitted.perBatch).toBeCloseTo(truth.perBatch, 8);
    expect(fitted.perEvent).toBeCloseTo(truth.perEvent, 8);
    expect(fitted.perSubscriptionSecond).toBeCloseTo(truth.perSubscriptionSecond, 10);
    expect(fitted.perRequest).toBeCloseTo(truth.perRequest, 8);
    const actions = fitUnitCosts(steps).actions;
    expect([actions.perRequest, actions.perSignal, actions.perBatch, actions.perEvent, actions.perSubscriptionSecond].map((v) => +v.toFixed(6))).toEqual([0, 1, 2, 0, 0]);
  });

  it('never fits a unit cost below zero', () => {
    const noisy = steps.map((s, i) => ({ ...s, costs: { ...s.costs, workerCpu: i === 0 ? 50 : 1 } }));
    const fitted = fitUnitCost(noisy, 'workerCpu');
    expect(Math.min(fitted.perRequest, fitted.perSignal, fitted.perBatch, fitted.perEvent, fitted.perSubscriptionSecond)).toBeGreaterThanOrEqual(0);
  });

  it('predicts each step from a fit of the other stacks’ steps', () => {
    const checked = leaveGroupOut([...steps.map((s) => ({ ...s, group: 'a' })), ...steps.map((s) => ({ ...s, group: 'b' }))], 'temporalCpu');
    expect(checked).toHaveLength(12);
    for (const row of checked) expect(Math.abs(row.error)).toBeLessThan(1e-6);
  });

  it('fits PostgreSQL transactions only where every step measured them (a cluster), and plans them then', () => {
    expect(fitUnitCosts(steps).postgresTransactions).toBeUndefined();
    expect(plan(hot, fitUnitCosts(steps)).postgresTransactionsPerSecond).toBeUndefined();
    const onCluster = steps.map((s) => ({ ...s, costs: { ...s.costs, postgresTransactions: 3 * s.signalsPerSecond + 5 * s.batchesPerSecond } }));
    const units = fitUnitCosts(onCluster);
    expect(units.postgresTransactions!.perSignal).toBeCloseTo(3, 6);
    expect(units.postgresTransactions!.perBatch).toBeCloseTo(5, 6);
    const rates = workloadRates(hot);
    expect(plan(hot, units).postgresTransactionsPerSecond).toBeCloseTo(3 * rates.signalsPerSecond + 5 * rates.batchesPerSecond, 4);
    // One step of another kind (the dev server's) and the cost is not fitted at all.
    expect(fitUnitCosts([...onCluster, steps[0]!]).postgresTransactions).toBeUndefined();
  });

  it('turns rates and unit costs into cores, processes and actions a month', () => {
    const units = fitUnitCosts(steps);
    const none = { perRequest: 0, perSignal: 0, perBatch: 0, perEvent: 0, perSubscriptionSecond: 0 };
    const result = plan(hot, { ...units, workerCpu: { ...none, perBatch: 0.1 }, apiCpu: { ...none, perEvent: 0.001 } }, 0.5);
    expect(result.cores.temporal).toBeCloseTo(costOf(truth, workloadRates(hot)), 8);
    expect(result.cores.worker).toBeCloseTo(0.6, 8);
    expect(result.provision.workerProcesses).toBe(2);
    expect(result.provision.apiProcesses).toBe(2);
    expect(result.actionsPerMonth).toBeCloseTo(result.actionsPerSecond * 2_592_000, 3);
  });
});
