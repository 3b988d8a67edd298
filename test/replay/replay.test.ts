import { fileURLToPath } from 'node:url';
import { bundleWorkflowCode, Worker } from '@temporalio/worker';
import { DeterminismViolationError } from '@temporalio/workflow';
import { describe, expect, it } from 'vitest';
import { workflowBundle } from '../../harness/temporal';
import { historyFiles, patchesIn, readHistory, readManifest, workflowTypeOf } from './corpus';

/**
 * The replay corpus: histories of representative runs, each folder recorded from the workflow
 * code of the commit it is named after (test/replay/record-histories.ts), all replayed against
 * the current code. A change that would break runs started by any of those versions fails here.
 * The corpus only grows: a folder is never re-recorded.
 */
const files = historyFiles();
const histories = files.map((file) => [file.replace(/\.json(\.gz)?$/, ''), readHistory(file)] as const);
const scenarios = (version: string) => histories.filter(([name]) => name.startsWith(`${version}/`)).map(([name]) => name.slice(version.length + 1));

describe('replaying recorded histories', () => {
  it('holds the runs recorded before the endpoint gate, and the later cases: the gate, updates, delete, hand-overs and a burst', () => {
    expect(scenarios('b868c3f')).toEqual(['delivery-failed', 'delivery-retried', 'subscription-continued-as-new', 'subscription-count-cut', 'subscription-window-cut']);
    const versions = new Set(histories.map(([name]) => name.split('/')[0]!));
    const after = [...versions].filter((version) => version !== 'b868c3f').flatMap(scenarios);
    for (const scenario of ['subscription-gate-released', 'subscription-gate-disabled-and-enabled', 'subscription-updated-and-deleted', 'subscription-continued-as-new', 'delivery-probe-recovered', 'delivery-held-released', 'delivery-failed', 'subscription-shorter-run', 'subscription-burst-cut-before-hand-over']) {
      expect(after, scenario).toContain(scenario);
    }
  });

  it('has a manifest entry for each history, naming its workflow and the patches its markers hold', () => {
    const manifest = readManifest();
    expect(manifest.histories.map((entry) => entry.file).sort()).toEqual(files);
    for (const entry of manifest.histories) {
      const history = readHistory(entry.file);
      expect(entry.recordedFrom, entry.file).toBe(entry.file.split('/')[0]);
      expect(entry.workflow, entry.file).toBe(workflowTypeOf(history));
      expect(entry.patches, entry.file).toEqual(patchesIn(history));
      expect(entry.pins.length, entry.file).toBeGreaterThan(10);
    }
  });

  it.each(histories)('replays %s against the current workflow code', async (name, history) => {
    await expect(Worker.runReplayHistory({ workflowBundle: await workflowBundle() }, history, name)).resolves.toBeUndefined();
  });

  it('reports a deliberately changed workflow as non-deterministic', async () => {
    const changed = await bundleWorkflowCode({
      workflowsPath: fileURLToPath(new URL('./changed-workflows/index.ts', import.meta.url)),
      logger: { log() {}, trace() {}, debug() {}, info() {}, warn() {}, error() {} },
    });
    const countCut = histories.find(([name]) => name === 'b868c3f/subscription-count-cut')![1];
    const replay = Worker.runReplayHistory({ workflowBundle: changed }, countCut, 'subscription-count-cut');
    await expect(replay).rejects.toBeInstanceOf(DeterminismViolationError);
  });
});
