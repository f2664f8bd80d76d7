import { RATE_LIMIT_GROUPS, RateLimitGroup, RateLimitSetting, RateLimitTable, RateLimitValues } from '../options.js';

/** The published limits (PROTOCOL.md §11; identical on TEST since 2.5.0). */
export const PUBLISHED_RATE_LIMITS: Required<Record<RateLimitGroup, RateLimitValues>> = {
  onlineSession: { perSecond: 10, perMinute: 30, perHour: 120 },
  batchSession: { perSecond: 10, perMinute: 20, perHour: 60 },
  invoiceSend: { perSecond: 10, perMinute: 30, perHour: 180 },
  invoiceStatus: { perSecond: 30, perMinute: 120, perHour: 1200 },
  sessionList: { perSecond: 5, perMinute: 10, perHour: 60 },
  sessionInvoiceList: { perSecond: 10, perMinute: 20, perHour: 200 },
  sessionMisc: { perSecond: 10, perMinute: 120, perHour: 1200 },
  invoiceMetadata: { perSecond: 8, perMinute: 16, perHour: 20 },
  invoiceExport: { perSecond: 8, perMinute: 16, perHour: 20 },
  invoiceExportStatus: { perSecond: 10, perMinute: 60, perHour: 600 },
  invoiceDownload: { perSecond: 8, perMinute: 16, perHour: 64 },
  other: { perSecond: 10, perMinute: 30, perHour: 120 },
  auth: { perSecond: 60 },
};

const WINDOWS = [
  { key: 'perSecond', ms: 1_000, unit: 'sekundę' },
  { key: 'perMinute', ms: 60_000, unit: 'minutę' },
  { key: 'perHour', ms: 3_600_000, unit: 'godzinę' },
] as const;

export interface RateLimitRejection {
  retryAfterSeconds: number;
  message: string;
}

export function validateRateLimitTable(table: unknown): RateLimitTable {
  if (!table || typeof table !== 'object' || Array.isArray(table)) throw new Error('rate limit table must be an object');
  for (const [group, values] of Object.entries(table)) {
    if (!RATE_LIMIT_GROUPS.includes(group as RateLimitGroup)) throw new Error(`unknown rate limit group ${group}`);
    if (!values || typeof values !== 'object') throw new Error(`${group} must be an object`);
    for (const [k, v] of Object.entries(values)) {
      if (!WINDOWS.some((w) => w.key === k)) throw new Error(`${group}.${k} is not perSecond, perMinute or perHour`);
      if (v !== undefined && (!Number.isInteger(v) || (v as number) < 1)) throw new Error(`${group}.${k} must be a positive integer`);
    }
  }
  return table as RateLimitTable;
}

/**
 * Sliding-window counters per (group, context, client IP): a request is admitted when every window of its
 * group still has room; only admitted requests are counted. Retry-After is when enough requests leave the
 * tightest exceeded window.
 */
export class RateLimiter {
  private setting: RateLimitSetting = 'off';
  private readonly history = new Map<string, number[]>();
  /** Limits of single contexts (`POST /testdata/rate-limits`), by contextKey, in force over the setting. */
  private readonly contextTables = new Map<string, RateLimitTable>();

  constructor(setting: RateLimitSetting) {
    this.configure(setting);
  }

  configure(setting: RateLimitSetting): void {
    this.setting = setting === 'off' || setting === 'published' ? setting : validateRateLimitTable(setting);
    this.history.clear();
  }

  get mode(): 'off' | 'published' | 'custom' {
    return typeof this.setting === 'string' ? this.setting : 'custom';
  }

  /** A context's own limits; undefined restores the common ones. */
  setContextTable(context: string, table: RateLimitTable | undefined): void {
    if (table) this.contextTables.set(context, validateRateLimitTable(table));
    else this.contextTables.delete(context);
  }

  clearContextTables(): void {
    this.contextTables.clear();
  }

  /** The limits in force, for a context when given (empty values = unlimited). */
  table(context?: string): RateLimitTable {
    const own = context === undefined ? undefined : this.contextTables.get(context);
    if (own) return own;
    if (this.setting === 'off') return {};
    if (this.setting === 'published') return PUBLISHED_RATE_LIMITS;
    return this.setting;
  }

  reset(): void {
    this.history.clear();
  }

  /** Admits (and counts) a request or says how long to wait; `context` picks that context's own limits. */
  admit(group: RateLimitGroup, subject: string, nowMs: number, context?: string): RateLimitRejection | undefined {
    const limits = this.table(context)[group];
    if (!limits) return undefined;
    const active = WINDOWS.filter((w) => limits[w.key] !== undefined);
    if (!active.length) return undefined;
    const key = `${group}|${subject}`;
    let times = this.history.get(key);
    if (!times) {
      times = [];
      this.history.set(key, times);
    }
    const horizon = nowMs - active[active.length - 1].ms;
    let drop = 0;
    while (drop < times.length && times[drop] <= horizon) drop++;
    if (drop) times.splice(0, drop);

    let rejection: RateLimitRejection | undefined;
    for (const w of active) {
      const limit = limits[w.key] as number;
      const first = firstAfter(times, nowMs - w.ms);
      const inWindow = times.length - first;
      if (inWindow < limit) continue;
      // The request fits again once (inWindow - limit + 1) of these have left the window.
      const freeAt = times[first + inWindow - limit] + w.ms;
      const retryAfterSeconds = Math.max(1, Math.ceil((freeAt - nowMs) / 1000));
      if (!rejection || retryAfterSeconds > rejection.retryAfterSeconds) {
        rejection = {
          retryAfterSeconds,
          message: `Przekroczono limit ${limit} żądań na ${w.unit}. Spróbuj ponownie po ${retryAfterSeconds} sekundach.`,
        };
      }
    }
    if (!rejection) times.push(nowMs);
    return rejection;
  }
}

/** Index of the first timestamp strictly after `t` (times are ascending). */
function firstAfter(times: number[], t: number): number {
  let lo = 0;
  let hi = times.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (times[mid] <= t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}
