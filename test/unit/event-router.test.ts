import { describe, expect, it } from 'vitest';
import { CHANGES_LOOKBACK_MS, EventRouter, ROUTES_FULL_REFRESH_MS, ROUTES_REFRESH_MS } from '../../api/ingest/event-router';
import type { RouteChanges, SubscriptionSummary } from '../../stores/subscription-store';

const summary = (id: string, eventTypes: string[], partnerId = 'p1', enabled = true): SubscriptionSummary => ({
  id,
  partnerId,
  url: 'https://example.com',
  eventTypes,
  batching: { windowMs: 1_000, maxEvents: 100 },
  createdAt: '2026-01-01T00:00:00.000Z',
  updatedAt: '2026-01-01T00:00:00.000Z',
  enabled,
});

const noChanges = async (): Promise<RouteChanges> => ({ changed: [], ended: [] });
/** Lets a background reading started by the last request finish. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 0));

describe('routing events to subscriptions', () => {
  function setup(listed: SubscriptionSummary[]) {
    let now = 0;
    let listings = 0;
    const router = new EventRouter(
      {
        listAll: async () => {
          listings++;
          return listed;
        },
        listChangedSince: noChanges,
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

  it('reads every subscription once, then only what changed since its last reading, and all of them again each full interval', async () => {
    let now = 0;
    const readings: string[] = [];
    const router = new EventRouter(
      {
        listAll: async () => {
          readings.push(`all at ${now}`);
          return [summary('s1', ['a'])];
        },
        listChangedSince: async (since) => {
          readings.push(`changes since ${since.getTime()} at ${now}`);
          return { changed: [], ended: [] };
        },
      },
      () => now,
    );
    // Requests from many partners within an interval start no reading.
    await Promise.all([router.subscriptionsFor('p1', 'a'), router.subscriptionsFor('p2', 'a')]);
    now = ROUTES_REFRESH_MS;
    await router.subscriptionsFor('p3', 'a');
    expect(readings).toEqual(['all at 0']);
    // The next reading asks what changed since the last one began, looking back for visibility's lag.
    now = ROUTES_REFRESH_MS + 1;
    await router.subscriptionsFor('p1', 'a');
    await settle();
    now = 2 * ROUTES_REFRESH_MS + 2;
    await router.subscriptionsFor('p1', 'a');
    await settle();
    expect(readings).toEqual(['all at 0', `changes since ${-CHANGES_LOOKBACK_MS} at ${ROUTES_REFRESH_MS + 1}`, `changes since ${ROUTES_REFRESH_MS + 1 - CHANGES_LOOKBACK_MS} at ${2 * ROUTES_REFRESH_MS + 2}`]);
    now = ROUTES_FULL_REFRESH_MS + 1;
    await router.subscriptionsFor('p1', 'a');
    await settle();
    expect(readings.at(-1)).toBe(`all at ${ROUTES_FULL_REFRESH_MS + 1}`);
  });

  it('applies what changed: new and changed subscriptions, disabled and ended ones leave the table', async () => {
    let now = 0;
    let changes: RouteChanges = { changed: [], ended: [] };
    const router = new EventRouter(
      {
        listAll: async () => [summary('s1', ['a']), summary('s2', ['a']), summary('s3', ['a']), summary('s4', ['a'], 'p2')],
        listChangedSince: async () => changes,
      },
      () => now,
    );
    expect(await router.subscriptionsFor('p1', 'a')).toEqual(['s1', 's2', 's3']);
    changes = {
      changed: [summary('s1', ['b']), summary('s2', ['a'], 'p1', false), summary('s5', ['a'])],
      ended: [summary('s3', ['a']), summary('s4', ['a'], 'p2')],
    };
    now += ROUTES_REFRESH_MS + 1;
    await router.subscriptionsFor('p1', 'a');
    await settle();
    expect(await router.subscriptionsFor('p1', 'a')).toEqual(['s5']);
    expect(await router.subscriptionsFor('p1', 'b')).toEqual(['s1']);
    expect(await router.subscriptionsFor('p2', 'a')).toEqual([]);
  });

  it('follows with full readings when reading changes fails (the change mark not registered)', async () => {
    let now = 0;
    let listed = [summary('s1', ['a'])];
    let fullReadings = 0;
    const router = new EventRouter(
      {
        listAll: async () => {
          fullReadings++;
          return listed;
        },
        listChangedSince: async () => {
          throw new Error("INVALID_ARGUMENT: invalid search attribute 'WebhookRoutesChangedAt'");
        },
      },
      () => now,
    );
    expect(await router.subscriptionsFor('p1', 'a')).toEqual(['s1']);
    listed = [summary('s1', ['a']), summary('s2', ['a'])];
    now += ROUTES_REFRESH_MS + 1;
    await router.subscriptionsFor('p1', 'a'); // reads changes, and fails
    await settle();
    await router.subscriptionsFor('p1', 'a'); // reads all at once: the table is still due
    await settle();
    expect(fullReadings).toBe(2);
    expect(await router.subscriptionsFor('p1', 'a')).toEqual(['s1', 's2']);
  });

  it('keeps routing with the table it has when a background refresh fails', async () => {
    let fail = false;
    let now = 0;
    const router = new EventRouter(
      {
        listAll: async () => {
          if (fail) throw new Error('visibility unavailable');
          return [summary('s1', ['a'])];
        },
        listChangedSince: async () => {
          if (fail) throw new Error('visibility unavailable');
          return { changed: [], ended: [] };
        },
      },
      () => now,
    );
    expect(await router.subscriptionsFor('p1', 'a')).toEqual(['s1']);
    fail = true;
    now += ROUTES_REFRESH_MS + 1;
    expect(await router.subscriptionsFor('p1', 'a')).toEqual(['s1']);
    await settle();
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
