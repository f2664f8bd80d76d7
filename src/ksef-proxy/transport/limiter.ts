/**
 * A proactive limiter: before each call ksef-proxy waits until the call fits KSeF's published limits
 * (PROTOCOL.md §11, sliding 1 s / 60 s / 1 h windows per context), so we do not provoke 429s. It is per
 * process; several processes sharing a context still get KSeF's 429 + Retry-After, which the client honours.
 */
export type LimitGroup =
  | 'onlineSession'
  | 'invoiceSend'
  | 'batchSession'
  | 'invoiceStatus'
  | 'sessionList'
  | 'sessionInvoiceList'
  | 'sessionMisc'
  | 'invoiceMetadata'
  | 'invoiceExport'
  | 'invoiceExportStatus'
  | 'invoiceDownload'
  | 'other'
  | 'auth'
  | 'unlimited';

type Windows = [perSecond: number, perMinute: number, perHour: number];

export const PUBLISHED_LIMITS: Record<Exclude<LimitGroup, 'unlimited'>, Windows> = {
  onlineSession: [10, 30, 120],
  invoiceSend: [10, 30, 180],
  batchSession: [10, 20, 60],
  invoiceStatus: [30, 120, 1200],
  sessionList: [5, 10, 60],
  sessionInvoiceList: [10, 20, 200],
  sessionMisc: [10, 120, 1200],
  invoiceMetadata: [8, 16, 20],
  invoiceExport: [8, 16, 20],
  invoiceExportStatus: [10, 60, 600],
  invoiceDownload: [8, 16, 64],
  other: [10, 30, 120],
  auth: [60, Infinity, Infinity],
};

const WINDOW_MS = [1_000, 60_000, 3_600_000] as const;

export class RateLimiter {
  /** Start times of calls in the last hour, per key, oldest first. */
  private readonly calls = new Map<string, number[]>();

  constructor(
    private readonly enabled: boolean,
    private readonly now: () => number = Date.now,
    private readonly sleep: (ms: number) => Promise<void> = (ms) => new Promise((r) => setTimeout(r, ms)),
  ) {}

  /** How long (ms) one more call of `group` under `scope` would wait now; 0 when it fits. Records nothing. */
  delay(scope: string, group: LimitGroup): number {
    if (!this.enabled || group === 'unlimited') return 0;
    return this.waitFor(`${scope}|${group}`, PUBLISHED_LIMITS[group], this.now());
  }

  /** Resolves when one more call of `group` under `scope` fits every window, and records it. */
  async acquire(scope: string, group: LimitGroup): Promise<void> {
    if (!this.enabled || group === 'unlimited') return;
    const key = `${scope}|${group}`;
    for (;;) {
      const now = this.now();
      const wait = this.waitFor(key, PUBLISHED_LIMITS[group], now);
      if (wait <= 0) {
        this.calls.set(key, [...(this.calls.get(key) ?? []), now]);
        return;
      }
      await this.sleep(wait);
    }
  }

  /** The wait every window imposes on one more call under `key` at `now` (calls older than an hour dropped). */
  private waitFor(key: string, limits: Windows, now: number): number {
    const times = (this.calls.get(key) ?? []).filter((t) => t > now - WINDOW_MS[2]);
    this.calls.set(key, times);
    let wait = 0;
    for (let w = 0; w < 3; w++) {
      const limit = limits[w];
      if (!Number.isFinite(limit)) continue;
      const inWindow = times.filter((t) => t > now - WINDOW_MS[w]);
      if (inWindow.length >= limit) wait = Math.max(wait, inWindow[inWindow.length - limit] + WINDOW_MS[w] - now + 1);
    }
    return wait;
  }
}
