import { describe, expect, it } from 'vitest';
import { AdmissionControl } from '../../api/ingest/admission';

/**
 * Admission control of event requests: a queue that makes 202s late lowers the limit of events in
 * flight, so the excess is refused at once; a stack that keeps up gets its limit back.
 */
describe('admission control of event requests', () => {
  function control(options: { targetMs?: number; maxInFlight?: number } = {}, loopDelay = () => 0) {
    const clock = { now: 0 };
    const admission = new AdmissionControl({ targetMs: options.targetMs ?? 500, maxInFlight: options.maxInFlight ?? 1_000, intervalMs: 250, minLimit: 10 }, loopDelay, () => clock.now);
    return { admission, clock };
  }

  it('admits up to its limit of events in flight and refuses the rest, whatever the latency', () => {
    const { admission } = control({ maxInFlight: 100 });
    expect(admission.admit(60)).toBeDefined();
    expect(admission.admit(40)).toBeDefined();
    expect(admission.admit(1)).toBeUndefined();
    expect(admission.stats()).toEqual({ limit: 100, inFlight: 100, refused: 1 });
  });

  it('always admits a request when nothing is in flight, even one larger than the limit', () => {
    const { admission } = control({ maxInFlight: 100 });
    const ticket = admission.admit(1_000);
    expect(ticket).toBeDefined();
    expect(admission.admit(1)).toBeUndefined();
    admission.done(ticket!);
    expect(admission.admit(1)).toBeDefined();
  });

  it('lowers the limit below what was in flight once a request waits past twice the target (a stall), so the excess is refused', () => {
    const { admission, clock } = control();
    const tickets = Array.from({ length: 40 }, () => admission.admit(10));
    expect(tickets.every((t) => t !== undefined)).toBe(true);
    // Temporal records nothing for 900 ms: not yet a stall.
    clock.now = 900;
    expect(admission.admit(0)).toBeDefined();
    expect(admission.stats().limit).toBe(1_000);
    // 1,200 ms: the oldest request has waited past twice the 500 ms target.
    clock.now = 1_200;
    expect(admission.admit(10)).toBeUndefined();
    expect(admission.stats().limit).toBe(280); // 70% of the 400 in flight
  });

  it('lowers the limit when finished requests took longer than the target', () => {
    const { admission, clock } = control();
    const slow = Array.from({ length: 20 }, () => admission.admit(10)!);
    clock.now = 200;
    for (const ticket of slow) admission.done(ticket); // before the interval ends: not yet looked at
    clock.now = 700;
    const late = admission.admit(10)!; // a new interval; the last one's requests took 200 ms
    expect(admission.stats().limit).toBe(1_000);
    clock.now = 1_300;
    admission.done(late); // this one took 600 ms
    clock.now = 1_400;
    admission.admit(10);
    expect(admission.stats().limit).toBe(10); // 70% of the 10 in flight, at the floor
  });

  it('keeps its limit when one request in twenty was slow (a hand-over) and the rest were prompt', () => {
    const { admission, clock } = control();
    const slow = admission.admit(1)!;
    clock.now = 300;
    admission.done(admission.admit(1)!); // a new interval starts
    clock.now = 400;
    for (let i = 0; i < 30; i++) admission.done(admission.admit(1)!);
    clock.now = 900;
    admission.done(slow); // 900 ms
    clock.now = 1_000;
    admission.admit(1);
    expect(admission.stats().limit).toBe(1_000);
  });

  it('lowers the limit when this process’s event loop is late by more than the target', () => {
    let delay = 0;
    const { admission, clock } = control({}, () => delay);
    for (let i = 0; i < 30; i++) admission.admit(10);
    clock.now = 300;
    delay = 800;
    admission.admit(10);
    expect(admission.stats().limit).toBe(210); // 70% of the 300 in flight, so this request is refused
  });

  it('gives the limit back step by step while requests are answered within the target and the limit binds', () => {
    const { admission, clock } = control({ maxInFlight: 1_000 });
    let tickets = Array.from({ length: 50 }, () => admission.admit(10)!);
    clock.now = 1_100;
    admission.admit(10); // stalled: 70% of 500
    expect(admission.stats().limit).toBe(350);
    // Temporal catches up: everything answered, then the producers press against the limit.
    const limits: number[] = [];
    for (let step = 1; step <= 8; step++) {
      for (const ticket of tickets) admission.done(ticket);
      tickets = [];
      for (let t = admission.admit(10); t !== undefined; t = admission.admit(10)) tickets.push(t);
      clock.now += 260;
      limits.push(admission.stats().limit);
    }
    // The first interval after the drop still counts the slow ones (one more drop); then 10% an interval.
    expect(limits[1]).toBe(244);
    expect(limits.slice(1)).toEqual([...limits.slice(1)].sort((a, b) => a - b));
    expect(limits[limits.length - 1]).toBeGreaterThan(350);
  });

  it('is off with an infinite target', () => {
    const { admission, clock } = control({ targetMs: Infinity, maxInFlight: 10 });
    for (let i = 0; i < 100; i++) expect(admission.admit(10)).toBeDefined();
    clock.now = 10_000;
    expect(admission.admit(10)).toBeDefined();
  });
});
