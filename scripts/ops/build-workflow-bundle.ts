/**
 * Builds the workflow bundle ahead of time (the Docker image does, so a worker starts without
 * webpack): `tsx scripts/ops/build-workflow-bundle.ts dist/workflow-bundle.js`. A worker given
 * WORKER_WORKFLOW_BUNDLE loads that file instead of bundling workflows/ at start-up.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { bundleWorkflowCode } from '@temporalio/worker';
import { workflowsPath } from '../../worker/worker';

const out = process.argv[2] ?? 'dist/workflow-bundle.js';
const { code } = await bundleWorkflowCode({ workflowsPath });
mkdirSync(dirname(out), { recursive: true });
writeFileSync(out, code);
console.log(`workflow bundle: ${out} (${Math.round(code.length / 1024)} KiB)`);
