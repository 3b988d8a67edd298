import { defineConfig } from 'vitest/config';

/**
 * Files that must have the machine to themselves: each that starts a Temporal cluster (PostgreSQL
 * and four services; beside other files its waits ran past their bounds), the fault scenarios
 * that kill processes on a clock, the admission test that measures how fast Temporal records
 * events, and the replay gate's (each run bundles the workflow code with webpack, a core's worth
 * for seconds). They run one at a time, after the others.
 */
const alone = [
  'test/e2e/chaos.test.ts',
  'test/e2e/cluster.test.ts',
  'test/e2e/cluster-command.test.ts',
  'test/e2e/pipeline.test.ts',
  'test/e2e/replay-gate.test.ts',
  'test/e2e/web-ui-codec.test.ts',
  'test/integration/load-shedding.test.ts',
];

export default defineConfig({
  test: {
    // Temporal's native bridge breaks under worker threads (sdk-typescript#876): use processes.
    pool: 'forks',
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    reporters: ['default'],
    projects: [
      {
        extends: true,
        test: {
          name: 'shared-nothing',
          include: ['test/**/*.test.ts'],
          exclude: alone,
          // Each file starts its own dev server, worker and receiver on ports the kernel picks, and
          // most of a file's time is waiting (windows, retries, timers): three at once on two cores.
          maxWorkers: 3,
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: { name: 'alone', include: alone, fileParallelism: false, sequence: { groupOrder: 1 } },
      },
    ],
  },
});
