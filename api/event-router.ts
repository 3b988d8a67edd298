import { RefreshingSnapshot } from './refreshing-snapshot';
import type { SubscriptionSummary } from './subscription-store';

export interface Route {
  subscriptionId: string;
  eventTypes: ReadonlySet<string>;
}

/** How often the routing table is read again from Temporal's visibility store, in the background. */
export const ROUTES_REFRESH_MS = 2_000;
/**
 * How long this process trusts its own changes over what visibility says: visibility is updated
 * asynchronously, so a subscription created here may be missing from a listing for a moment.
 */
const LOCAL_CHANGE_TRUST_MS = 30_000;

interface LocalChange {
  at: number;
  route: Route | null;
}

/**
 * Which subscriptions an event goes to. The whole routing table (every active subscription's id
 * and event types, from the subscription workflows' memos) is loaded once, then refreshed in the
 * background every ROUTES_REFRESH_MS: after the first request, the hot path never waits on
 * visibility, and the cost is one paginated listing per interval however many partners post.
 * Changes made through this process apply at once; changes made through another API process
 * within ROUTES_REFRESH_MS plus the listing's duration and the visibility lag.
 */
export class EventRouter {
  private readonly table: RefreshingSnapshot<Map<string, Route[]>>;
  private readonly localChanges = new Map<string, Map<string, LocalChange>>();

  constructor(
    listAll: () => Promise<SubscriptionSummary[]>,
    private readonly now: () => number = Date.now,
    onRefreshError: (err: unknown) => void = () => {},
  ) {
    this.table = new RefreshingSnapshot(async () => routingTable(await listAll()), ROUTES_REFRESH_MS, now, onRefreshError);
  }

  /** The subscriptions of `partnerId` that want `type`. */
  async subscriptionsFor(partnerId: string, type: string): Promise<string[]> {
    const table = await this.table.get();
    const routes = this.withLocalChanges(partnerId, table.get(partnerId) ?? []);
    return routes.filter((route) => route.eventTypes.has(type)).map((route) => route.subscriptionId);
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

  private withLocalChanges(partnerId: string, listed: Route[]): Route[] {
    const changes = this.localChanges.get(partnerId);
    if (!changes) return listed;
    const now = this.now();
    const merged = new Map(listed.map((route) => [route.subscriptionId, route]));
    for (const [id, change] of changes) {
      if (now - change.at > LOCAL_CHANGE_TRUST_MS) {
        changes.delete(id);
        continue;
      }
      if (change.route) merged.set(id, change.route);
      else merged.delete(id);
    }
    if (changes.size === 0) this.localChanges.delete(partnerId);
    return [...merged.values()];
  }

  private noteChange(partnerId: string, subscriptionId: string, route: Route | null): void {
    let changes = this.localChanges.get(partnerId);
    if (!changes) this.localChanges.set(partnerId, (changes = new Map<string, LocalChange>()));
    changes.set(subscriptionId, { at: this.now(), route });
  }
}

function routingTable(subscriptions: SubscriptionSummary[]): Map<string, Route[]> {
  const table = new Map<string, Route[]>();
  for (const subscription of subscriptions) {
    // A disabled subscription takes no new events until it is enabled again.
    if (subscription.enabled === false) continue;
    let routes = table.get(subscription.partnerId);
    if (!routes) table.set(subscription.partnerId, (routes = []));
    routes.push({ subscriptionId: subscription.id, eventTypes: new Set(subscription.eventTypes) });
  }
  return table;
}
