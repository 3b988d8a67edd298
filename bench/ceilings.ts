/**
 * Ceilings measured in the same run as the scenarios, so that ratios hold on a noisy machine:
 * how fast the receiver takes batch bodies, and how many bare workflows (one no-op activity each)
 * this Temporal server completes per second at the same concurrency.
 */
import { randomUUID } from 'node:crypto';
import { Pool } from 'undici';
import { buildPayloadBody } from '../domain/payload';
import { sleep, spawnEntry } from '../harness/processes';
import type { LoadStack } from '../harness/stack';

/** Runs `operation` in `concurrency` loops for `durationMs`; answers how many completed per second. */
async function closedLoopRate(concurrency: number, durationMs: number, operation: () => Promise<unknown>): Promise<number> {
  let done = 0;
  const started = performance.now();
  const deadline = started + durationMs;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        await operation();
        done++;
      }
    }),
  );
  return Math.round((done / (performance.now() - started)) * 1000);
}

export async function receiverCeiling(stack: LoadStack, concurrency: number, durationMs: number): Promise<{ requestsPerSecond: number }> {
  const events = Array.from({ length: 100 }, (_, i) => ({ id: randomUUID(), createdAt: new Date().toISOString(), type: 'page.viewed', data: { client: i, seq: i, sentAt: Date.now() } }));
  const body = buildPayloadBody(randomUUID(), new Date().toISOString(), events);
  const pool = new Pool(`http://127.0.0.1:${stack.receiver.port}`, { connections: concurrency });
  const requestsPerSecond = await closedLoopRate(concurrency, durationMs, async () => {
    const response = await pool.request({ method: 'POST', path: '/hook', headers: { 'content-type': 'application/json' }, body });
    await response.body.dump();
  });
  await pool.close();
  stack.receiver.reset();
  return { requestsPerSecond };
}

export async function temporalCeiling(stack: LoadStack, concurrency: number, durationMs: number): Promise<{ workflowsPerSecond: number }> {
  const taskQueue = `bare-${randomUUID()}`;
  const worker = spawnEntry('bench/bare-worker.ts', [], {
    env: { ...process.env, ...stack.clientEnv, TASK_QUEUE: taskQueue },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  worker.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  // Its first line says it polls; if it dies first, say why instead of waiting for ever.
  await new Promise<void>((resolve, reject) => {
    worker.stdout!.once('data', () => resolve());
    worker.once('close', (code) => reject(new Error(`the bare worker exited (${code}) before it polled:\n${stderr.slice(-2_000)}`)));
  });
  const workflowsPerSecond = await closedLoopRate(concurrency, durationMs, () =>
    stack.client.workflow.execute('bareWorkflow', { taskQueue, workflowId: `bare-${randomUUID()}` }),
  );
  worker.kill('SIGTERM');
  await sleep(500);
  return { workflowsPerSecond };
}
