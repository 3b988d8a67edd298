/**
 * The log of requests refused for load (503 with `Retry-After`): at most one line per interval,
 * saying how many were refused since the last line and what the last one was. Under overload that
 * is one line a second instead of one (with a stack) per request, written when the process can
 * least afford it. `webhooks_event_requests_shed_total` counts every one.
 */
export class RefusalLog {
  private refused = 0;
  private lastLineAt = -Infinity;

  constructor(
    private readonly write: (fields: Record<string, unknown>) => void,
    private readonly intervalMs = 1_000,
    private readonly now: () => number = Date.now,
  ) {}

  note(last: Record<string, unknown>): void {
    this.refused++;
    const at = this.now();
    if (at - this.lastLineAt < this.intervalMs) return;
    this.write({ refused: this.refused, last });
    this.refused = 0;
    this.lastLineAt = at;
  }
}
