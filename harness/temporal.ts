import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { bundleWorkflowCode, DefaultLogger, Runtime, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { searchAttributeKeys } from '../workflows/search-attributes';
import { workflowsPath } from '../worker/worker';

// Failed delivery attempts are expected in tests; keep the SDK's log to real errors.
Runtime.install({ logger: new DefaultLogger('ERROR') });

const binDir = fileURLToPath(new URL('../.temporal/bin/', import.meta.url));
export const temporalCliPath = `${binDir}temporal`;
export const timeSkippingServerPath = `${binDir}temporal-test-server`;

function requireBinary(path: string): string {
  if (!existsSync(path)) throw new Error(`${path} is missing: run \`npm run setup\` (scripts/install/install-temporal.sh)`);
  return path;
}

/** A real Temporal dev server from the installed CLI, with this project's search attributes. */
export async function startDevServer(extraArgs: string[] = [], { ui = false } = {}): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createLocal({
    server: {
      executable: { type: 'existing-path', path: requireBinary(temporalCliPath) },
      ip: '127.0.0.1',
      ui,
      searchAttributes: searchAttributeKeys,
      extraArgs: ['--log-level', 'error', ...extraArgs],
    },
  });
}

/** The Java time-skipping test server, for tests that span hours or days. */
export async function startTimeSkippingServer(): Promise<TestWorkflowEnvironment> {
  return TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: requireBinary(timeSkippingServerPath) } },
  });
}

let bundle: Promise<WorkflowBundleWithSourceMap> | undefined;
/** The workflow bundle, built once per test file. */
export function workflowBundle(): Promise<WorkflowBundleWithSourceMap> {
  bundle ??= bundleWorkflowCode({ workflowsPath, logger: quietLogger });
  return bundle;
}

const quietLogger = {
  log() {},
  trace() {},
  debug() {},
  info() {},
  warn() {},
  error(message: string, meta?: unknown) {
    console.error(message, meta);
  },
};

/** Polls `probe` until it returns a value other than undefined, or fails after `timeoutMs`. */
export async function eventually<T>(probe: () => Promise<T | undefined> | T | undefined, timeoutMs = 20_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
