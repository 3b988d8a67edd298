/**
 * The load generator, run as its own process by bench/run.ts: CONCURRENCY clients,
 * each posting single events, paced together to RATE events/s for DURATION_S seconds.
 * Prints one JSON line: counts, 202 latencies, and each accepted id with its 202 time.
 */
import { randomUUID } from 'node:crypto';
import { Pool } from 'undici';

const env = process.env;
const url = new URL(env.API_URL!);
const token = env.API_TOKEN!;
// Requests go round-robin over these partners (one subscription each in the scenarios).
const partners = (env.PARTNER_IDS ?? env.PARTNER_ID!).split(',');
const rate = Number(env.RATE ?? 5000);
const concurrency = Number(env.CONCURRENCY ?? 200);
const durationMs = Number(env.DURATION_S ?? 20) * 1000;
const eventType = env.EVENT_TYPE ?? 'page.viewed';

const pool = new Pool(url.origin, { connections: concurrency, pipelining: 1 });
const latencies: number[] = [];
const accepted: [string, number][] = [];
const statuses: Record<string, number> = {};
let sent = 0;

const start = performance.now();
const startEpoch = Date.now();
const intervalMs = (1000 * concurrency) / rate;

async function client(index: number): Promise<void> {
  for (let k = 0; ; k++) {
    const due = start + index * (1000 / rate) + k * intervalMs;
    // The load is offered for durationMs of wall-clock time: a client that fell behind stops at
    // the deadline instead of sending its whole quota late (which would stretch the step).
    if (due - start >= durationMs || performance.now() - start >= durationMs) return;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
    const id = randomUUID();
    const body = JSON.stringify({ id, type: eventType, data: { client: index, seq: k, sentAt: Date.now() } });
    const t0 = performance.now();
    sent++;
    try {
      const response = await pool.request({
        method: 'POST',
        path: `/v1/partners/${partners[(index + k * concurrency) % partners.length]}/events`,
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body,
      });
      await response.body.dump();
      const t1 = performance.now();
      statuses[response.statusCode] = (statuses[response.statusCode] ?? 0) + 1;
      if (response.statusCode === 202) {
        latencies.push(t1 - t0);
        accepted.push([id, Math.round(startEpoch + (t1 - start))]);
      }
    } catch (err) {
      const code = (err as { code?: string }).code ?? 'error';
      statuses[code] = (statuses[code] ?? 0) + 1;
    }
  }
}

await Promise.all(Array.from({ length: concurrency }, (_, i) => client(i)));
const elapsedMs = performance.now() - start;
await pool.close();
latencies.sort((a, b) => a - b);
const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))] ?? null;
process.stdout.write(
  JSON.stringify({
    offeredRate: rate,
    concurrency,
    durationMs: Math.round(elapsedMs),
    sent,
    acceptedCount: accepted.length,
    acceptedPerSecond: Math.round((accepted.length / elapsedMs) * 1000),
    statuses,
    latencyMs: { p50: pct(50), p99: pct(99), max: latencies[latencies.length - 1] ?? null },
    accepted,
  }) + '\n',
);
