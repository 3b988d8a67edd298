import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, STICKY_QUEUE_TIMEOUT_MS_DEFAULT } from '../../platform/config';

/** The worker's cache and sticky-queue settings (docs/configuration.md; chosen in docs/performance.md). */
const base = { HOME: mkdtempSync(join(tmpdir(), 'webhooks-worker-config-')) };

describe('worker cache and sticky queue settings', () => {
  it('defaults to a 3 s sticky queue timeout and the SDK default cache size', () => {
    expect(STICKY_QUEUE_TIMEOUT_MS_DEFAULT).toBe(3_000);
    expect(loadConfig(base).worker).toMatchObject({ stickyQueueTimeoutMs: 3_000, maxCachedWorkflows: undefined });
    expect(loadConfig({ ...base, WORKER_MAX_CACHED_WORKFLOWS: '0' }).worker.maxCachedWorkflows).toBeUndefined();
  });

  it('takes both from the environment', () => {
    const worker = loadConfig({ ...base, WORKER_STICKY_QUEUE_TIMEOUT_MS: '10000', WORKER_MAX_CACHED_WORKFLOWS: '5000' }).worker;
    expect(worker).toMatchObject({ stickyQueueTimeoutMs: 10_000, maxCachedWorkflows: 5_000 });
  });

  it('refuses a sticky timeout under a second (tasks of a busy worker would leave its cache) and non-numbers', () => {
    expect(() => loadConfig({ ...base, WORKER_STICKY_QUEUE_TIMEOUT_MS: '500' })).toThrow(ConfigError);
    expect(() => loadConfig({ ...base, WORKER_STICKY_QUEUE_TIMEOUT_MS: '500' })).toThrow(/WORKER_STICKY_QUEUE_TIMEOUT_MS/);
    expect(() => loadConfig({ ...base, WORKER_MAX_CACHED_WORKFLOWS: 'many' })).toThrow(/WORKER_MAX_CACHED_WORKFLOWS/);
  });
});
