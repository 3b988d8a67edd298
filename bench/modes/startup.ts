/**
 * `npm run bench -- --startup`: the API and the worker started again and again on one dev server,
 * compiled (`node dist/api.js`, as the image runs them now) and from the sources through tsx with
 * the prebuilt workflow bundle (as the image ran them before the build), alternately. For each
 * start: the time from spawn to ready (the API's /healthz, the worker's /readyz: it polls) and
 * the resident memory then and 3 s later. Medians per side, and compiled / sources in one run.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { compiledEntryPoints, workflowBundleFile } from '../../scripts/build/entry-points';
import { freePort, root, rssMb, sleep, watchProcess } from '../../harness/processes';
import { startStack } from '../../harness/stack';
import type { OptionsOf } from '../options';
import type { ModeReport } from '../step';

type Side = 'compiled' | 'sources';
type Process = 'api' | 'worker';

interface Start {
  readyMs: number;
  rssAtReadyMb: number;
  rssAfter3sMb: number;
}

const ENTRY: Record<Process, string> = { api: 'api/main.ts', worker: 'worker/main.ts' };

export async function startupRun(options: OptionsOf<'startup'>): Promise<ModeReport> {
  const rounds = options.quick ? 3 : 7;
  const stack = await startStack({ workers: 0, apis: 0 });
  const starts: Record<Process, Record<Side, Start[]>> = { api: { compiled: [], sources: [] }, worker: { compiled: [], sources: [] } };
  try {
    for (let round = 0; round < rounds; round++) {
      // Alternate which side goes first, so that neither always meets a warmer page cache.
      const order: Side[] = round % 2 === 0 ? ['compiled', 'sources'] : ['sources', 'compiled'];
      for (const processName of ['api', 'worker'] as const) {
        for (const side of order) starts[processName][side].push(await startOnce(processName, side, stack.env));
      }
    }
  } finally {
    await stack.stop();
  }
  const summary = Object.fromEntries(
    (['api', 'worker'] as const).map((processName) => {
      const compiled = medians(starts[processName].compiled);
      const sources = medians(starts[processName].sources);
      const ratio = (key: keyof Start) => Math.round((compiled[key] / sources[key]) * 100) / 100;
      return [processName, { compiled, sources, compiledOverSources: { readyMs: ratio('readyMs'), rssAtReadyMb: ratio('rssAtReadyMb'), rssAfter3sMb: ratio('rssAfter3sMb') } }];
    }),
  );
  console.log(`\nstart-up, medians of ${rounds} starts each (compiled / sources in the last column)`);
  console.log('process  side       ready ms  RSS at ready MiB  RSS 3 s later MiB');
  for (const [processName, sides] of Object.entries(summary)) {
    for (const side of ['compiled', 'sources'] as const) {
      const m = sides[side];
      console.log(`${processName.padEnd(9)}${side.padEnd(11)}${String(m.readyMs).padStart(8)}${String(m.rssAtReadyMb).padStart(18)}${String(m.rssAfter3sMb).padStart(19)}`);
    }
    const r = sides.compiledOverSources;
    console.log(`${processName.padEnd(9)}${'ratio'.padEnd(11)}${String(r.readyMs).padStart(8)}${String(r.rssAtReadyMb).padStart(18)}${String(r.rssAfter3sMb).padStart(19)}`);
  }
  return { startup: { rounds, summary, starts } };
}

/** One start of `processName`, timed from spawn to ready; then it is killed. */
async function startOnce(processName: Process, side: Side, stackEnv: Record<string, string>): Promise<Start> {
  const port = await freePort();
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    HOME: process.env.HOME ?? '',
    ...stackEnv,
    ...(processName === 'api' ? { API_PORT: String(port), WORKER_METRICS_PORT: '0' } : { WORKER_METRICS_PORT: String(port) }),
    // From the sources, the worker runs the same prebuilt bundle, as the image did before the build.
    ...(side === 'sources' ? { WORKER_WORKFLOW_BUNDLE: join(root, 'dist', workflowBundleFile) } : {}),
  };
  const args = side === 'compiled' ? ['--enable-source-maps', join('dist', compiledEntryPoints[ENTRY[processName]]!)] : ['--import', 'tsx', ENTRY[processName]];
  const started = Date.now();
  const child = watchProcess(spawn(process.execPath, args, { cwd: root, env, stdio: ['ignore', 'ignore', 'ignore'] }));
  try {
    const url = `http://127.0.0.1:${port}/${processName === 'api' ? 'healthz' : 'readyz'}`;
    while (!(await fetch(url).catch(() => undefined))?.ok) {
      if (child.child.exitCode !== null) throw new Error(`${processName} (${side}) exited with ${child.child.exitCode} before it was ready`);
      if (Date.now() - started > 60_000) throw new Error(`${processName} (${side}) was not ready within 60 s`);
      await sleep(10);
    }
    const readyMs = Date.now() - started;
    const rssAtReadyMb = rssMb(child.child.pid!);
    await sleep(3_000);
    return { readyMs, rssAtReadyMb, rssAfter3sMb: rssMb(child.child.pid!) };
  } finally {
    await child.kill();
  }
}

function medians(starts: Start[]): Start {
  const median = (values: number[]) => {
    const sorted = [...values].sort((a, b) => a - b);
    return sorted[Math.floor(sorted.length / 2)]!;
  };
  return { readyMs: median(starts.map((s) => s.readyMs)), rssAtReadyMb: median(starts.map((s) => s.rssAtReadyMb)), rssAfter3sMb: median(starts.map((s) => s.rssAfter3sMb)) };
}
