import { describe, expect, it } from 'vitest';
import { MAX_INTERVAL_MS, SignalCommitter } from '../../api/ingest/signal-committer';
import type { WebhookEvent } from '../../domain/schema';

const event = (id: string): WebhookEvent => ({ id, createdAt: '2026-01-01T00:00:00.000Z', type: 't', data: {} });
const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

/** A fake signal sender whose calls the test completes by hand. */
function recorder() {
  const calls: { key: string; ids: string[]; finish: (ok?: boolean) => void; fail: (e: Error) => void }[] = [];
  const send = (key: string, events: WebhookEvent[]) =>
    new Promise<boolean>((resolve, reject) => {
      calls.push({ key, ids: events.map((e) => e.id), finish: (ok = true) => resolve(ok), fail: reject });
    });
  return { calls, send };
}

describe('group commit of events into signals', () => {
  it('sends at once when idle, and merges what arrives meanwhile into the next signal, in order', async () => {
    const { calls, send } = recorder();
    const committer = new SignalCommitter(send, { minIntervalMs: 0, maxSignalBytes: 1_000 });
    const first = committer.submit('s1', [event('a')], [10]);
    await tick();
    const second = committer.submit('s1', [event('b')], [10]);
    const third = committer.submit('s1', [event('c'), event('d')], [10, 10]);
    await tick();
    expect(calls.map((c) => c.ids)).toEqual([['a']]);

    calls[0]!.finish();
    expect(await first).toBe(true);
    await tick();
    expect(calls.map((c) => c.ids)).toEqual([['a'], ['b', 'c', 'd']]);
    calls[1]!.finish();
    expect(await Promise.all([second, third])).toEqual([true, true]);
    expect(committer.stats).toEqual({ signals: 2, events: 4 });
  });

  it('keeps subscriptions apart', async () => {
    const { calls, send } = recorder();
    const committer = new SignalCommitter(send, { minIntervalMs: 0, maxSignalBytes: 1_000 });
    void committer.submit('s1', [event('a')], [10]);
    void committer.submit('s2', [event('b')], [10]);
    await tick();
    expect(calls.map((c) => [c.key, c.ids])).toEqual([
      ['s1', ['a']],
      ['s2', ['b']],
    ]);
  });

  it('splits events over the signal byte limit into several signals, and settles the request after the last', async () => {
    const { calls, send } = recorder();
    const committer = new SignalCommitter(send, { minIntervalMs: 0, maxSignalBytes: 25 });
    let settled = false;
    const request = committer.submit('s1', [event('a'), event('b'), event('c')], [10, 10, 10]).then((ok) => (settled = ok));
    await tick();
    expect(calls.map((c) => c.ids)).toEqual([['a', 'b']]);
    calls[0]!.finish();
    await tick();
    expect(settled).toBe(false);
    expect(calls.map((c) => c.ids)).toEqual([['a', 'b'], ['c']]);
    calls[1]!.finish();
    await request;
    expect(settled).toBe(true);
  });

  it('waits minIntervalMs between two signals to one subscription', async () => {
    const { calls, send } = recorder();
    let now = 1_000;
    const committer = new SignalCommitter(send, { minIntervalMs: 30, maxSignalBytes: 1_000 }, () => now);
    void committer.submit('s1', [event('a')], [10]);
    await tick();
    calls[0]!.finish();
    await tick();
    void committer.submit('s1', [event('b')], [10]);
    await tick();
    expect(calls).toHaveLength(1);
    now += 30;
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(calls.map((c) => c.ids)).toEqual([['a'], ['b']]);
  });

  it('says a subscription is overloaded once its signal in flight has gone unanswered for shedAfterMs, and not after', async () => {
    const { calls, send } = recorder();
    let now = 1_000;
    const committer = new SignalCommitter(send, { minIntervalMs: 0, maxSignalBytes: 1_000, shedAfterMs: 500 }, () => now);
    expect(committer.overloaded('s1')).toBe(false);
    const first = committer.submit('s1', [event('a')], [10]);
    await tick();
    now += 300;
    const second = committer.submit('s1', [event('b')], [10]);
    now += 199;
    expect(committer.overloaded('s1')).toBe(false);
    now += 1;
    // 'a' has been in flight for 500 ms; another subscription is not held back by it.
    expect(committer.overloaded('s1')).toBe(true);
    expect(committer.overloaded('s2')).toBe(false);
    calls[0]!.finish();
    expect(await first).toBe(true);
    await tick();
    // 'b' went out just now: Temporal has had no time to answer it yet.
    expect(calls.map((c) => c.ids)).toEqual([['a'], ['b']]);
    expect(committer.overloaded('s1')).toBe(false);
    now += 500;
    expect(committer.overloaded('s1')).toBe(true);
    calls[1]!.finish();
    expect(await second).toBe(true);
    expect(committer.overloaded('s1')).toBe(false);
  });

  it('stretches each subscription\'s interval when many are signalled, to stay near signalsPerSecond, up to MAX_INTERVAL_MS', async () => {
    const { calls, send } = recorder();
    let now = 0;
    const committer = new SignalCommitter(send, { minIntervalMs: 100, maxSignalBytes: 1_000, signalsPerSecond: 20 }, () => now);
    expect(committer.interval()).toBe(100);
    void committer.submit('s1', [event('a')], [10]);
    await tick();
    // One subscription: 1 / 20 per second is 50 ms, under the minimum.
    expect(committer.interval()).toBe(100);
    for (let i = 2; i <= 10; i++) void committer.submit(`s${i}`, [event(`first-${i}`)], [10]);
    await tick();
    // Ten subscriptions at 20 signals a second: 500 ms each.
    expect(committer.interval()).toBe(500);
    for (const call of calls) call.finish();
    await tick();
    void committer.submit('s1', [event('b')], [10]);
    void committer.submit('s1', [event('c')], [10]);
    now += 499;
    await new Promise((resolve) => setTimeout(resolve, 20));
    expect(calls.filter((c) => c.key === 's1').map((c) => c.ids)).toEqual([['a']]);
    now += 1;
    await new Promise((resolve) => setTimeout(resolve, 520));
    // Both waited for the stretched interval and went out together.
    expect(calls.filter((c) => c.key === 's1').map((c) => c.ids)).toEqual([['a'], ['b', 'c']]);
    for (let i = 11; i <= 100; i++) void committer.submit(`s${i}`, [event(`first-${i}`)], [10]);
    await tick();
    expect(committer.interval()).toBe(MAX_INTERVAL_MS);
  });

  it('does not count a wait for the stretched interval as overload', async () => {
    const { calls, send } = recorder();
    let now = 0;
    const committer = new SignalCommitter(send, { minIntervalMs: 100, maxSignalBytes: 1_000, signalsPerSecond: 1, shedAfterMs: 300 }, () => now);
    void committer.submit('s1', [event('a')], [10]);
    void committer.submit('s2', [event('x')], [10]);
    await tick();
    for (const call of calls) call.finish();
    await tick();
    void committer.submit('s1', [event('b')], [10]);
    // The interval is MAX_INTERVAL_MS: 'b' waits for it, and only past it plus shedAfterMs is that overload.
    now += MAX_INTERVAL_MS + 299;
    expect(committer.overloaded('s1')).toBe(false);
    now += 1;
    expect(committer.overloaded('s1')).toBe(true);
  });

  it('never says overloaded without shedAfterMs', async () => {
    const { send } = recorder();
    let now = 0;
    const committer = new SignalCommitter(send, { minIntervalMs: 0, maxSignalBytes: 1_000 }, () => now);
    void committer.submit('s1', [event('a')], [10]);
    await tick();
    now += 3_600_000;
    expect(committer.overloaded('s1')).toBe(false);
  });

  it('rejects every request of a failed signal, and reports a vanished subscription as not recorded', async () => {
    const { calls, send } = recorder();
    const committer = new SignalCommitter(send, { minIntervalMs: 0, maxSignalBytes: 1_000 });
    const failing = committer.submit('s1', [event('a')], [10]);
    await tick();
    calls[0]!.fail(new Error('unavailable'));
    await expect(failing).rejects.toThrow('unavailable');
    const gone = committer.submit('s1', [event('b')], [10]);
    await tick();
    calls[1]!.finish(false);
    expect(await gone).toBe(false);
  });
});
