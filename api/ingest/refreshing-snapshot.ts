/** What a reload is given: the value it replaces and when the load that made it began. */
export interface Previous<T> {
  value: T;
  loadedAt: number;
}

/**
 * A snapshot of something listed from Temporal's visibility store (the routing table, the event
 * catalog), loaded once, then reloaded in the background at most every `refreshMs`: after the
 * first request, the hot path never waits on visibility, and the cost is one listing per
 * interval however many requests read it. A reload is given the previous value, so it may read
 * only what changed since; a failed reload keeps the previous snapshot.
 */
export class RefreshingSnapshot<T> {
  private value: T | undefined;
  private firstLoad: Promise<void> | undefined;
  private loadedAt = -Infinity;
  private refreshing = false;

  constructor(
    private readonly load: (previous: Previous<T> | undefined) => Promise<T>,
    private readonly refreshMs: number,
    private readonly now: () => number = Date.now,
    private readonly onRefreshError: (err: unknown) => void = () => {},
  ) {}

  /** Waits for the first load only; later reloads run behind the reads that trigger them. */
  async get(): Promise<T> {
    if (!this.firstLoad) {
      this.firstLoad = this.reload().catch((err: unknown) => {
        this.firstLoad = undefined; // the next read tries again
        throw err;
      });
    }
    await this.firstLoad;
    if (this.now() - this.loadedAt > this.refreshMs && !this.refreshing) {
      this.refreshing = true;
      this.reload()
        .catch(this.onRefreshError)
        .finally(() => (this.refreshing = false));
    }
    return this.value!;
  }

  private async reload(): Promise<void> {
    const startedAt = this.now();
    this.value = await this.load(this.value === undefined ? undefined : { value: this.value, loadedAt: this.loadedAt });
    this.loadedAt = startedAt;
  }
}
