/** The Temporal ceiling's workload: a bare workflow that runs one no-op activity. */
import { proxyActivities } from '@temporalio/workflow';

const { noop } = proxyActivities<{ noop(): Promise<void> }>({ startToCloseTimeout: '10 seconds' });

export async function bareWorkflow(): Promise<void> {
  await noop();
}
