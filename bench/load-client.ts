/**
 * The load generator, run as its own process by each step (bench/step.ts). Two modes:
 * - `MODE=open` (the benchmark's main mode): requests are due at a constant rate whatever the
 *   answers do, over CONCURRENCY connections, up to MAX_IN_FLIGHT outstanding (a request due past that bound is not sent and is
 *   counted as `unsent`); each request's latency is taken from the moment it was due, so a stall
 *   shows in full instead of slowing the load down (no coordinated omission).
 * - `MODE=closed`: CONCURRENCY clients, each waiting for its answer before its next request, paced
 *   together to RATE; a stall slows the clients, so its rate and latencies flatter the server.
 * RATE counts events per second; each request carries EVENTS_PER_REQUEST events (1: a single event
 * object; more: an array). Prints one JSON line: counts, 202 latencies, each accepted event id with
 * its 202 time, and this process's own CPU.
 * `TARGET=svix` posts the same events to Svix's server instead (bench/peers/svix.ts): one message
 * per event, PARTNER_IDS naming its applications.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Pool } from 'undici';

const env = process.env;
const url = new URL(env.API_URL!);
const token = env.API_TOKEN!;
// Requests go round-robin over these partners (one subscription each in the scenarios), named in
// PARTNER_IDS_FILE (comma-separated), PARTNER_IDS or PARTNER_ID.
const partners = (env.PARTNER_IDS_FILE ? readFileSync(env.PARTNER_IDS_FILE, 'utf8') : (env.PARTNER_IDS ?? env.PARTNER_ID!)).split(',');
const mode = env.MODE === 'closed' ? 'closed' : 'open';
const rate = Number(env.RATE ?? 5000);
const concurrency = Number(env.CONCURRENCY ?? 200);
const maxInFlight = Number(env.MAX_IN_FLIGHT ?? 20_000);
const eventsPerRequest = Number(env.EVENTS_PER_REQUEST ?? 1);
const durationMs = Number(env.DURATION_S ?? 20) * 1000;
/** How long answers to requests sent before the deadline are waited for. */
const drainMs = Number(env.DRAIN_S ?? 30) * 1000;
const eventType = env.EVENT_TYPE ?? 'page.viewed';
const requestRate = rate / eventsPerRequest;
const svix = env.TARGET === 'svix';
if (svix && eventsPerRequest !== 1) throw new Error('Svix takes one message per request: EVENTS_PER_REQUEST must be 1');

type BenchEvent = { id: string; type: string; data: Record<string, number> };
/** Where a request for `partner` goes, and its body. */
const requestFor = svix
  ? (partner: string, events: BenchEvent[]) => ({ path: `/api/v1/app/${partner}/msg/`, body: JSON.stringify({ eventType: eventType, payload: events[0] }) })
  : (partner: string, events: BenchEvent[]) => ({ path: `/v1/partners/${partner}/events`, body: JSON.stringify(eventsPerRequest === 1 ? events[0] : events) });

// Open loop: CONCURRENCY keep-alive connections, opened before the clock starts (as a producer's
// pool would be); requests beyond them wait in the pool, and that wait counts in their latency.
const pool = new Pool(url.origin, { connections: concurrency, pipelining: 1, headersTimeout: drainMs, bodyTimeout: drainMs });
await Promise.all(
  Array.from({ length: concurrency }, async () => {
    const response = await pool.request({ method: 'GET', path: svix ? '/api/v1/health/' : '/healthz' });
    await response.body.dump();
  }),
);
const latencies: number[] = [];
/** From due time to a 503's answer: how fast a refused producer learns to come back. */
const refusedLatencies: number[] = [];
const accepted: [string, number][] = [];
const statuses: Record<string, number> = {};
const retryAfter: Record<string, number> = {};
let sent = 0;
let unsent = 0;
let inFlight = 0;
let peakInFlight = 0;
/** Per second of the step (by when requests were due): requests, 202s, and the slowest 202. */
const timeline: { sent: number; accepted: number; maxMs: number }[] = [];

const start = performance.now();
const startEpoch = Date.now();
const cpuAtStart = process.cpuUsage();

/** Sends request number `n` (its events `client`/`seq`-numbered), timed from `dueAt`. */
async function send(n: number, dueAt: number, client: number): Promise<void> {
  const events: BenchEvent[] = Array.from({ length: eventsPerRequest }, (_, i) => ({ id: randomUUID(), type: eventType, data: { client, seq: n * eventsPerRequest + i, sentAt: Date.now() } }));
  const { path, body } = requestFor(partners[n % partners.length]!, events);
  const second = (timeline[Math.floor((dueAt - start) / 1000)] ??= { sent: 0, accepted: 0, maxMs: 0 });
  second.sent++;
  sent++;
  inFlight++;
  peakInFlight = Math.max(peakInFlight, inFlight);
  try {
    const response = await pool.request({
      method: 'POST',
      path,
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body,
    });
    await response.body.dump();
    const answeredAt = performance.now();
    statuses[response.statusCode] = (statuses[response.statusCode] ?? 0) + 1;
    const after = response.headers['retry-after'];
    if (after !== undefined) retryAfter[String(after)] = (retryAfter[String(after)] ?? 0) + 1;
    if (response.statusCode === 503) refusedLatencies.push(answeredAt - dueAt);
    if (response.statusCode === 202) {
      latencies.push(answeredAt - dueAt);
      second.accepted++;
      second.maxMs = Math.max(second.maxMs, Math.round(answeredAt - dueAt));
      const at = Math.round(startEpoch + (answeredAt - start));
      for (const event of events) accepted.push([event.id, at]);
    }
  } catch (err) {
    const code = (err as { code?: string }).code ?? 'error';
    statuses[code] = (statuses[code] ?? 0) + 1;
  } finally {
    inFlight--;
  }
}

/** Open loop: every request leaves when it is due; the ticker catches up on all that came due. */
async function openLoop(): Promise<void> {
  const pending = new Set<Promise<void>>();
  const intervalMs = 1000 / requestRate;
  for (let n = 0; ; n++) {
    const due = start + n * intervalMs;
    if (due - start >= durationMs) break;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resolve) => setTimeout(resolve, wait));
    if (inFlight >= maxInFlight) {
      unsent++;
      continue;
    }
    const request = send(n, due, n % concurrency);
    pending.add(request);
    void request.then(() => pending.delete(request));
  }
  let timer: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([Promise.all(pending), new Promise((resolve) => (timer = setTimeout(resolve, drainMs)))]);
  clearTimeout(timer);
}

/** Closed loop: each client waits for its answer, paced to its share of the rate. */
async function closedLoop(): Promise<void> {
  const intervalMs = (1000 * concurrency) / requestRate;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, index) => {
      for (let k = 0; ; k++) {
        const due = start + index * (1000 / requestRate) + k * intervalMs;
        // The load is offered for durationMs of wall-clock time: a client that fell behind stops at
        // the deadline instead of sending its whole quota late (which would stretch the step).
        if (due - start >= durationMs || performance.now() - start >= durationMs) return;
        const wait = due - performance.now();
        if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
        // Closed-loop latency is taken from the send, as such a client sees it.
        await send(index + k * concurrency, performance.now(), index);
      }
    }),
  );
}

await (mode === 'open' ? openLoop() : closedLoop());
const elapsedMs = performance.now() - start;
await pool.destroy();
latencies.sort((a, b) => a - b);
refusedLatencies.sort((a, b) => a - b);
const percentileOf = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? null;
const pct = (p: number) => percentileOf(latencies, p);
const cpu = process.cpuUsage(cpuAtStart);
process.stdout.write(
  JSON.stringify({
    mode,
    offeredRate: rate,
    eventsPerRequest,
    concurrency,
    durationMs: Math.round(Math.min(elapsedMs, Math.max(durationMs, 1))),
    elapsedMs: Math.round(elapsedMs),
    sent,
    unsent,
    peakInFlight,
    acceptedCount: accepted.length,
    statuses,
    retryAfter,
    latencyMs: { p50: pct(50), p99: pct(99), max: latencies[latencies.length - 1] ?? null },
    latency503Ms: { p50: percentileOf(refusedLatencies, 50), p99: percentileOf(refusedLatencies, 99), max: refusedLatencies[refusedLatencies.length - 1] ?? null },
    timeline: Array.from(timeline, (second) => second ?? { sent: 0, accepted: 0, maxMs: 0 }),
    loadCpuSeconds: +((cpu.user + cpu.system) / 1e6).toFixed(2),
    accepted,
  }) + '\n',
);
