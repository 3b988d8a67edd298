import { describe, expect, it } from 'vitest';
import { compactReport, SLOW_TASKS_KEPT, TRIMMED } from '../../bench/compact';

/** bench/results/ keeps what the docs and scripts/tools/capacity.ts read, and not the bulk of each step. */
describe('the compact form of a results file', () => {
  const task = (i: number) => ({ workflowId: `subscription-${i}`, at: '2026-12-07T16:00:00.000Z', queuedMs: i, ranMs: 600, outcome: 'completed', historyEvents: 10 });
  const step = (slowTasks: number) => ({
    offeredPerSecond: 600,
    acceptedCount: 9_000,
    timeline: [{ sent: 600, accepted: 600, maxMs: 120 }],
    endToEndMs: { p50: 200, p95: 400, p99: 900 },
    cpuSeconds: { temporal: 6.1, worker: 3, api: 2.9 },
    temporal: { signals: 150, childStarts: 90, actions: 400, historyBytes: 5_000_000, workflowTaskFailures: 1, slowWorkflowTasks: Array.from({ length: slowTasks }, (_, i) => task(i)) },
    sustained: true,
  });
  const report = { date: '2026-12-07T16:00:00.000Z', revision: { variants: ['aa12bf3', 'working tree'], rows: [{ scenario: 'hot', ...step(25) }, { scenario: 'shared', ...step(3) }] }, scenarios: {}, peakRssMb: {} };

  it('leaves out each step’s per-second timeline and keeps its summaries', () => {
    const compact = compactReport(report) as typeof report;
    const [row] = compact.revision.rows;
    expect(row).not.toHaveProperty('timeline');
    const { timeline: _timeline, temporal: _temporal, ...summaries } = report.revision.rows[0]!;
    expect(row).toMatchObject(summaries);
    expect(row!.temporal).toMatchObject({ signals: 150, childStarts: 90, actions: 400, historyBytes: 5_000_000, workflowTaskFailures: 1 });
  });

  it(`keeps the first ${SLOW_TASKS_KEPT} slow workflow tasks of a step and says how many there were`, () => {
    const [busy, calm] = (compactReport(report) as typeof report).revision.rows;
    expect(busy!.temporal.slowWorkflowTasks).toEqual(report.revision.rows[0]!.temporal.slowWorkflowTasks.slice(0, SLOW_TASKS_KEPT));
    expect(busy!.temporal).toHaveProperty('slowWorkflowTaskCount', 25);
    expect(calm!.temporal.slowWorkflowTasks).toHaveLength(3);
    expect(calm!.temporal).not.toHaveProperty('slowWorkflowTaskCount');
  });

  it('says what it left out, keeps the keys in their order, and changes nothing the second time', () => {
    const compact = compactReport(report);
    expect(Object.keys(compact)).toEqual(['date', 'revision', 'scenarios', 'peakRssMb', 'trimmed']);
    expect(compact.trimmed).toBe(TRIMMED);
    expect(compactReport(compact)).toEqual(compact);
    expect(JSON.stringify(compactReport(compact))).toBe(JSON.stringify(compact));
  });

  it('leaves a report with nothing to trim as it is, and does not change the report it is given', () => {
    const small = { date: 'x', scenarios: { hot: { fixed: { acceptedCount: 1 } } } };
    expect(compactReport(small)).toEqual(small);
    compactReport(report);
    expect(report.revision.rows[0]).toHaveProperty('timeline');
    expect(report.revision.rows[0]!.temporal.slowWorkflowTasks).toHaveLength(25);
  });
});
