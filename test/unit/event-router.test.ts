import { describe, expect, it } from 'vitest';
import { EventRouter, ROUTES_REFRESH_MS } from '../../api/event-router';
import type { SubscriptionSummary } from '../../api/subscription-store';

const summary = (id: string, eventTypes: string[], partnerId = 'p1'): SubscriptionSummary => ({
  id,
  partnerId,
  url: 'https://example.com',
  eventTypes,
  batching: { windowMs: 1_000, maxEvents: 100 },
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
});

describe('routing events to subscriptions', () => {
  function setup(listed: SubscriptionSummary[]) {
    let now = 0;
    let listings = 0;
    const router = new EventRouter(
      async () => {
        listings++;
        return listed;
      },
      () => now,
    );
    return { router, advance: (ms: number) => (now += ms), listings: () => listings };
  }

  it('routes an event to every subscription of its partner that wants its type, and to no other', async () => {
    const { router } = setup([summary('s1', ['a', 'b']), summary('s2', ['b']), summary('s3', ['c'])]);
    expect(await router.subscriptionsFor('p1', 'b')).toEqual(['s1', 's2']);
    expect(await router.subscriptionsFor('p1', 'z')).toEqual([]);
  });

  it('routes by partner: another partner\'s subscription never gets the event', async () => {
    const { router } = setup([summary('s1', ['a']), summary('s2', ['a'], 'p2')]);
    expect(await router.subscriptionsFor('p1', 'a')).toEqual(['s1']);
    expect(await router.subscriptionsFor('p2', 'a')).toEqual(['s2']);
    expect(await router.subscriptionsFor('p3', 'a')).toEqual([]);
  });

  it('lists visibility once per refresh interval, in the background, not once per event or partner', async () => {
    const { router, advance, listings } = setup([summary('s1', ['a'])]);
    await Promise.all([router.subscriptionsFor('p1', 'a'), router.subscriptionsFor('p2', 'a')]);
    advance(ROUTES_REFRESH_MS - 1);
    await router.subscriptionsFor('p1', 'a');
    await router.subscriptionsFor('p3', 'a');
    expect(listings()).toBe(1);
    advance(2);
    await router.subscriptionsFor('p1', 'a');
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(listings()).toBe(2);
  });

  it('keeps routing with the table it has when a background refresh fails', async () => {
    let fail = false;
    let now = 0;
    const router = new EventRouter(
      async () => {
        if (fail) throw new Error('visibility unavailable');
        return [summary('s1', ['a'])];
      },
      () => now,
    );
    expect(await router.subscriptionsFor('p1', 'a')).toEqual(['s1']);
    fail = true;
    now += ROUTES_REFRESH_MS + 1;
    expect(await router.subscriptionsFor('p1', 'a')).toEqual(['s1']);
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(await router.subscriptionsFor('p1', 'a')).toEqual(['s1']);
  });

  it('honours a change made through this process at once, even before visibility shows it', async () => {
    const { router, advance } = setup([summary('s1', ['a'])]);
    await router.subscriptionsFor('p1', 'a');
    router.noteSaved('p1', { id: 's2', eventTypes: ['a'] });
    router.noteRemoved('p1', 's1');
    expect(await router.subscriptionsFor('p1', 'a')).toEqual(['s2']);
    advance(ROUTES_REFRESH_MS + 1);
    expect(await router.subscriptionsFor('p1', 'a')).toEqual(['s2']);
  });
});
