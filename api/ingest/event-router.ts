import { RefreshingSnapshot, type Previous } from './refreshing-snapshot';
import type { RouteChanges, SubscriptionSummary } from '../../stores/subscription-store';

export interface Route {
  subscriptionId: string;
  eventTypes: ReadonlySet<string>;
}

/** How often the routing table reads, in the background, what changed since its last reading. */
export const ROUTES_REFRESH_MS = 2_000;
/**
 * How often it reads every subscription instead: the most a change waits that a reading of
 * changes missed (visibility lagging by more than the lookback, a subscription created before
 * the change mark existed).
 */
export const ROUTES_FULL_REFRESH_MS = 60_000;
/**
 * How far before the previous reading began a reading of changes looks: visibility is updated
 * asynchronously, and a change is marked by the workflow's clock, not this process's.
 */
export const CHANGES_LOOKBACK_MS = 30_000;
/**
 * How long this process trusts its own changes over what visibility says: visibility is updated
 * asynchronously, so a subscription created here may be missing from a listing for a moment.
 */
const LOCAL_CHANGE_TRUST_MS = 30_000;

/** Where the routing table is read from: the subscription workflows' memos, in visibility. */
export interface RouteSource {
  listAll(): Promise<SubscriptionSummary[]>;
  listChangedSince(since: Date): Promise<RouteChanges>;
}

interface LocalChange {
  at: number;
  route: Route | null;
}

/** Partner id → subscription id → route. */
type RoutingTable = Map<string, Map<string, Route>>;

/**
 * Which subscriptions an event goes to. The whole routing table (every active subscription's id
 * and event types, from the subscription workflows' memos) is read once, then kept current in the
 * background: every ROUTES_REFRESH_MS it reads only the subscriptions whose routes changed or
 * that ended since its last reading, and every ROUTES_FULL_REFRESH_MS all of them again. After
 * the first request the hot path never waits on visibility, and an idle subscription costs a
 * full reading a minute, not one every 2 s. Changes made through this process apply at once;
 * changes made through another API process within ROUTES_REFRESH_MS plus the listing's duration
 * and the visibility lag.
 */
export class EventRouter {
  private readonly table: RefreshingSnapshot<RoutingTable>;
  private readonly localChanges = new Map<string, Map<string, LocalChange>>();
  /** When the last successful full reading began. */
  private fullReadAt = -Infinity;

  constructor(
    private readonly source: RouteSource,
    private readonly now: () => number = Date.now,
    onRefreshError: (err: unknown) => void = () => {},
  ) {
    this.table = new RefreshingSnapshot((previous) => this.read(previous), ROUTES_REFRESH_MS, now, onRefreshError);
  }

  /** The subscriptions of `partnerId` that want `type`. */
  async subscriptionsFor(partnerId: string, type: string): Promise<string[]> {
    const listed = (await this.table.get()).get(partnerId)?.values() ?? [];
    const found: string[] = [];
    for (const route of this.withLocalChanges(partnerId, listed)) if (route.eventTypes.has(type)) found.push(route.subscriptionId);
    return found;
  }

  /** Records a subscription created or changed through this process. */
  noteSaved(partnerId: string, subscription: { id: string; eventTypes: string[] }): void {
    this.noteChange(partnerId, subscription.id, {
      subscriptionId: subscription.id,
      eventTypes: new Set(subscription.eventTypes),
    });
  }

  /** Records a subscription deleted through this process, or found gone when signalled. */
  noteRemoved(partnerId: string, subscriptionId: string): void {
    this.noteChange(partnerId, subscriptionId, null);
  }

  /** A reading: all of them the first time and every ROUTES_FULL_REFRESH_MS, else what changed since `previous`. */
  private async read(previous: Previous<RoutingTable> | undefined): Promise<RoutingTable> {
    const startedAt = this.now();
    if (!previous || startedAt - this.fullReadAt > ROUTES_FULL_REFRESH_MS) {
      const table: RoutingTable = new Map();
      for (const subscription of await this.source.listAll()) put(table, subscription);
      this.fullReadAt = startedAt;
      return table;
    }
    let changes: RouteChanges;
    try {
      changes = await this.source.listChangedSince(new Date(previous.loadedAt - CHANGES_LOOKBACK_MS));
    } catch (err) {
      // Reading changes may fail where reading all works (the change mark not registered as a
      // search attribute): the next reading is a full one, so the table still follows.
      this.fullReadAt = -Infinity;
      throw err;
    }
    const table = previous.value;
    for (const subscription of changes.ended) table.get(subscription.partnerId)?.delete(subscription.id);
    for (const subscription of changes.changed) {
      table.get(subscription.partnerId)?.delete(subscription.id);
      put(table, subscription);
    }
    return table;
  }

  private withLocalChanges(partnerId: string, listed: Iterable<Route>): Iterable<Route> {
    const changes = this.localChanges.get(partnerId);
    if (!changes) return listed;
    const now = this.now();
    const merged = new Map([...listed].map((route) => [route.subscriptionId, route]));
    for (const [id, change] of changes) {
      if (now - change.at > LOCAL_CHANGE_TRUST_MS) {
        changes.delete(id);
        continue;
      }
      if (change.route) merged.set(id, change.route);
      else merged.delete(id);
    }
    if (changes.size === 0) this.localChanges.delete(partnerId);
    return merged.values();
  }

  private noteChange(partnerId: string, subscriptionId: string, route: Route | null): void {
    let changes = this.localChanges.get(partnerId);
    if (!changes) this.localChanges.set(partnerId, (changes = new Map<string, LocalChange>()));
    changes.set(subscriptionId, { at: this.now(), route });
  }
}

function put(table: RoutingTable, subscription: SubscriptionSummary): void {
  // A disabled subscription takes no new events until it is enabled again.
  if (subscription.enabled === false) return;
  let routes = table.get(subscription.partnerId);
  if (!routes) table.set(subscription.partnerId, (routes = new Map<string, Route>()));
  routes.set(subscription.id, { subscriptionId: subscription.id, eventTypes: new Set(subscription.eventTypes) });
}
