import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { describe, expect, it } from 'vitest';
import { workflowBundle } from '../support/temporal';

/**
 * Histories of representative runs, recorded by test/replay/record-histories.ts, replayed
 * against the current workflow code: a change that would break running workflows fails here.
 */
const dir = new URL('./histories/', import.meta.url);
const histories = readdirSync(dir)
  .filter((file) => file.endsWith('.json'))
  .map((file) => [file.replace(/\.json$/, ''), JSON.parse(readFileSync(new URL(file, dir), 'utf8')) as unknown] as const);

describe('replaying recorded histories', () => {
  it('has the five representative runs', () => {
    expect(histories.map(([name]) => name).sort()).toEqual([
      'delivery-failed',
      'delivery-retried',
      'subscription-continued-as-new',
      'subscription-count-cut',
      'subscription-window-cut',
    ]);
  });

  it.each(histories)('replays %s against the current workflow code', async (name, history) => {
    await expect(Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, name)).resolves.toBeUndefined();
  });

  it('reports a deliberately changed workflow as non-deterministic', async () => {
    const changed = await bundleWorkflowCode({
      workflowsPath: fileURLToPath(new URL('./changed-workflows/index.ts', import.meta.url)),
      logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} },
    });
    const countCut = histories.find(([name]) => name === 'subscription-count-cut')![1];
    const replay = Worker.runReplayHistory({ workflowBundle: changed }, countCut, 'subscription-count-cut');
    await expect(replay).rejects.toBeInstanceOf(DeterminismViolationError);
  });
});
