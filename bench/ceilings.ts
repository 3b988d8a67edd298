/**
 * Ceilings measured in the same run as the scenarios, so that ratios hold on a noisy machine:
 * how fast the receiver takes batch bodies, and how many bare workflows (one no-op activity each)
 * this Temporal server completes per second at the same concurrency.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { Pool } from 'undici';
import { buildPayloadBody } from '../domain/payload';
import { root, sleep, type Stack } from './stack';

export async function receiverCeiling(stack: Stack, concurrency: number, durationMs: number): Promise<{ requestsPerSecond: number }> {
  const events = Array.from({ length: 100 }, (_, i) => ({ id: randomUUID(), createdAt: new Date().toISOString(), type: 'page.viewed', data: { client: i, seq: i, sentAt: Date.now() } }));
  const body = buildPayloadBody(randomUUID(), new Date().toISOString(), events);
  const pool = new Pool(`http://127.0.0.1:${stack.receiver.port}`, { connections: concurrency });
  let done = 0;
  const deadline = performance.now() + durationMs;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        const response = await pool.request({ method: 'POST', path: '/hook', headers: { 'content-type': 'application/json' }, body });
        await response.body.dump();
        done++;
      }
    }),
  );
  await pool.close();
  stack.receiver.reset();
  return { requestsPerSecond: Math.round((done / (performance.now() - started)) * 1000) };
}

export async function temporalCeiling(stack: Stack, concurrency: number, durationMs: number): Promise<{ workflowsPerSecond: number }> {
  const taskQueue = `bare-${randomUUID()}`;
  const worker = spawn(process.execPath, ['--import', 'tsx', 'bench/bare-worker.ts'], {
    cwd: root,
    env: { ...process.env, TEMPORAL_ADDRESS: stack.address, TASK_QUEUE: taskQueue },
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  await new Promise<void>((resolve) => worker.stdout.once('data', () => resolve()));
  let done = 0;
  const deadline = performance.now() + durationMs;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < deadline) {
        await stack.client.workflow.execute('bareWorkflow', { taskQueue, workflowId: `bare-${randomUUID()}` });
        done++;
      }
    }),
  );
  const elapsed = performance.now() - started;
  worker.kill('SIGTERM');
  await sleep(500);
  return { workflowsPerSecond: Math.round((done / elapsed) * 1000) };
}
