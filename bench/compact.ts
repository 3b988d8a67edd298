/**
 * The form results files are kept in: bench/results/ is in git, and the docs and
 * scripts/tools/capacity.ts read its files. A file keeps every summary of every step (rates, latencies,
 * CPU, Temporal's counts, memory) and leaves out the bulk no figure is read from: each step's
 * per-second `timeline` (the run prints it with the step), and all but the first SLOW_TASKS_KEPT
 * of a step's `slowWorkflowTasks` (the trace of its stalls; `slowWorkflowTaskCount` says how many
 * there were). bench/run.ts writes new results this way; bench/compact-results.ts rewrites older ones.
 */

export const SLOW_TASKS_KEPT = 20;

/** What a compacted file says it left out. */
export const TRIMMED = `timeline (per second) left out; slowWorkflowTasks: the first ${SLOW_TASKS_KEPT} of each step, slowWorkflowTaskCount how many there were`;

/** The compact form of a report (a new object; the report is not changed). Compacting twice changes nothing. */
export function compactReport(report: Record<string, unknown>): Record<string, unknown> {
  let trimmed = false;
  const compact = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(compact);
    if (value === null || typeof value !== 'object') return value;
    const out: Record<string, unknown> = {};
    for (const [key, child] of Object.entries(value)) {
      if (key === 'timeline' && Array.isArray(child)) {
        trimmed = true;
        continue;
      }
      if (key === 'slowWorkflowTasks' && Array.isArray(child) && child.length > SLOW_TASKS_KEPT) {
        trimmed = true;
        out[key] = child.slice(0, SLOW_TASKS_KEPT).map(compact);
        out.slowWorkflowTaskCount = child.length;
        continue;
      }
      out[key] = compact(child);
    }
    return out;
  };
  const result = compact(report) as Record<string, unknown>;
  if (trimmed) result.trimmed = TRIMMED;
  return result;
}
