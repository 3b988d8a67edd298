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

describe('the Worker Deployment Version a worker declares (decision 0011)', () => {
  it('is deployment webhooks, build id dev from the sources, made current only when none is', () => {
    // Vitest runs the sources: no compiled build is defined here.
    expect(loadConfig(base).worker.deployment).toEqual({ name: 'webhooks', buildId: 'dev', setCurrent: 'if-none' });
    expect(loadConfig(base).worker.workflowBundlePath).toBeUndefined();
  });

  it('takes the name, build id and policy from the environment, or none at all with versioning off', () => {
    const worker = loadConfig({ ...base, WORKER_DEPLOYMENT_NAME: 'billing-hooks', WORKER_BUILD_ID: 'v2-rc1', WORKER_SET_CURRENT: 'never' }).worker;
    expect(worker.deployment).toEqual({ name: 'billing-hooks', buildId: 'v2-rc1', setCurrent: 'never' });
    expect(loadConfig({ ...base, WORKER_VERSIONING: 'off' }).worker.deployment).toBeUndefined();
  });

  it('refuses names Temporal would read differently and unknown policies, naming the variable', () => {
    // Temporal writes a version as deployment.buildId or deployment:buildId: neither may hold those.
    expect(() => loadConfig({ ...base, WORKER_DEPLOYMENT_NAME: 'web.hooks' })).toThrow(/WORKER_DEPLOYMENT_NAME/);
    expect(() => loadConfig({ ...base, WORKER_BUILD_ID: 'a:b' })).toThrow(/WORKER_BUILD_ID/);
    expect(() => loadConfig({ ...base, WORKER_SET_CURRENT: 'sometimes' })).toThrow(/WORKER_SET_CURRENT/);
    expect(() => loadConfig({ ...base, WORKER_VERSIONING: 'yes' })).toThrow(/WORKER_VERSIONING/);
  });
});
