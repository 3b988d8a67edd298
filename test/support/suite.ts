import type { TestWorkflowEnvironment } from '@temporalio/testing';
import type { Worker } from '@temporalio/worker';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import type { Config } from '../../platform/config';
import { apiFor } from '../../harness/api';
import { createTestWorker, testConfig } from '../../harness/in-process';
import { Receiver } from '../../harness/receiver';
import { startDevServer } from '../../harness/temporal';

export interface ServerSuite {
  env: TestWorkflowEnvironment;
  config: Config;
  worker: Worker;
  receiver: Receiver;
  api: ReturnType<typeof apiFor>;
}

/**
 * The hooks most integration suites share: a real dev server, a running worker, a local receiver
 * (emptied and answering 200 before each test) and the API app, all torn down after the file.
 * `ready` receives them once they are up.
 */
export function useServerSuite(overrides: Record<string, string>, ready: (suite: ServerSuite) => void): void {
  let suite: ServerSuite | undefined;
  let running: Promise<void> | undefined;
  beforeAll(async () => {
    const env = await startDevServer();
    const config = testConfig(overrides);
    const worker = await createTestWorker(env, config);
    running = worker.run();
    suite = { env, config, worker, receiver: await Receiver.start(), api: apiFor(env.client, config) };
    ready(suite);
  });
  afterAll(async () => {
    suite?.worker.shutdown();
    await running;
    await suite?.receiver.close();
    await suite?.env.teardown();
  });
  beforeEach(() => {
    if (!suite) return;
    suite.receiver.requests.length = 0;
    suite.receiver.responder = () => 200;
  });
}
