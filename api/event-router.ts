import type { SubscriptionSummary } from './subscription-store';

export interface Route {
  subscriptionId: string;
  eventTypes: ReadonlySet<string>;
}

/** How long a partner's routes are reused before they are read again from Temporal's visibility. */
export const ROUTES_TTL_MS = 2_000;
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
 * Which subscriptions an event goes to. Routes are cached per partner so the hot path does not
 * list visibility for each request; changes made through this process apply at once, changes
 * made through another API process within ROUTES_TTL_MS plus the visibility lag.
 */
export class EventRouter {
  private readonly cache = new Map<string, { loadedAt: number; routes: Promise<Route[]> }>();
  private readonly localChanges = new Map<string, Map<string, LocalChange>>();

  constructor(
    private readonly listSubscriptions: (partnerId: string) => Promise<SubscriptionSummary[]>,
    private readonly now: () => number = Date.now,
  ) {}

  /** The subscriptions of `partnerId` that want `type`. */
  async subscriptionsFor(partnerId: string, type: string): Promise<string[]> {
    const routes = await this.routes(partnerId);
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

  private async routes(partnerId: string): Promise<Route[]> {
    const now = this.now();
    let entry = this.cache.get(partnerId);
    if (!entry || now - entry.loadedAt > ROUTES_TTL_MS) {
      const routes = this.listSubscriptions(partnerId).then((found) =>
        found.map((s) => ({ subscriptionId: s.id, eventTypes: new Set(s.eventTypes) })),
      );
      entry = { loadedAt: now, routes };
      this.cache.set(partnerId, entry);
      // A failed listing must not stay cached.
      routes.catch(() => {
        if (this.cache.get(partnerId) === entry) this.cache.delete(partnerId);
      });
    }
    return this.withLocalChanges(partnerId, await entry.routes);
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
