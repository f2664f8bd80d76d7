import path from 'node:path';
import { type LogLevel, logLevels } from './logger.js';

/** Everything the server reads from the environment, read once at start. The README's configuration table lists these. */
export interface AppConfig {
  port: number;
  host: string;
  /** Set → PostgreSQL through a pg Pool; unset → embedded PGlite in `dataDir`. */
  databaseUrl: string | undefined;
  dataDir: string;
  /** `memory` keeps the embedded database in memory (tests). */
  embeddedStorage: 'disk' | 'memory';
  bodyLimit: string;
  /** `BATCH_BODY_LIMIT`: the body limit of `POST /invoices/{env}/batch` only (up to 10,000 invoices in one request). */
  batchBodyLimit: string;
  authCacheTtlMs: number;
  /** How long a stopping server lets requests and the outbox's pass under way finish (then leases are given back). */
  shutdownTimeoutMs: number;
  /** Chromium (for PDFs) is closed after this long without a render, and launched again by the next one; 0 keeps it. */
  pdfIdleMs: number;
  /** express's `trust proxy`: which proxies' X-Forwarded-For names the client (login throttling counts per client). */
  trustProxy: boolean | string | number;
  bootstrap: {
    adminEmail: string | undefined;
    adminPassword: string | undefined;
    companyNip: string | undefined;
    companyName: string | undefined;
  };
  /** `LOG_LEVEL`: pino's level names. */
  logLevel: LogLevel;
  ksef: KsefConfig;
  webhooks: WebhookConfig;
}

/** Delivery of webhook events (README "Webhooks"). */
export interface WebhookConfig {
  /** `WEBHOOK_INTERVAL_MS`: how often the delivery worker looks for due deliveries; 0 turns it off. */
  intervalMs: number;
  /** `WEBHOOK_RETRY_BASE_MS`: the pause after a first failed attempt; each further one doubles it (with jitter, at most an hour). */
  retryBaseMs: number;
  /** `WEBHOOK_PRIVATE_ADDRESSES`: `allow` (default) or `deny` deliveries to private and loopback addresses. */
  privateAddresses: 'allow' | 'deny';
  /** `WEBHOOK_CONCURRENCY`: deliveries in flight at once, per process. */
  concurrency: number;
  /** One attempt's timeout. */
  timeoutMs: number;
  /** How long after its event a failing delivery is still tried. */
  retryForMs: number;
}

export type KsefEnvironmentName = 'test' | 'demo' | 'prod';

/** How ksef-proxy reaches KSeF. Defaults are the official hosts and KSeF's published limits. */
export interface KsefConfig {
  baseUrls: Record<KsefEnvironmentName, string>;
  /** `KSEF_SECRETS_KEY`: 32 bytes (base64 or hex) encrypting KSeF secrets at rest; unset → a key file in the data directory. */
  secretsKey: string | undefined;
  /** How long `POST /invoices/{env}/send` waits for the KSeF number before answering `pending`. */
  sendWaitMs: number;
  /** Timeout of one HTTP call to KSeF. */
  requestTimeoutMs: number;
  /** Attempts of one call to KSeF (first try included) when a retry is safe. */
  maxAttempts: number;
  /** Longest `Retry-After` we are willing to wait inside a request; longer ones surface as 429. */
  maxRetryAfterMs: number;
  /** `published`: stay under KSeF's published rate limits; `off`: do not throttle (a sandbox without limits). */
  rateLimits: 'published' | 'off';
  /** Background delivery of queued and pending invoices: poll period; 0 turns the worker off. */
  outboxIntervalMs: number;
  /** How long a process owns an invoice it is sending; after a crash another process takes it over after this. */
  outboxLeaseMs: number;
  /** An open online session unused for this long is closed. */
  sessionIdleMs: number;
  /** `SYNC_INTERVAL`: period of the scheduled incremental sync of every configured company; 0 = only on request. */
  syncIntervalMs: number;
  /** `SYNC_START`: where the first sync of a company starts (PermanentStorage date). */
  syncStart: Date;
  /** How `send-batch` cuts the offline queue, and the bulk lane its invoices, into KSeF batch sessions (PROTOCOL.md §5, §11). */
  offlineBatch: OfflineBatchLimits;
  /**
   * `OUTBOX_BATCH_THRESHOLD`: more queued online invoices of a company than this, and those never handed to
   * KSeF go by batch session; 0 never. Unset: what the published online limits clear in 5 minutes (150)
   * with `KSEF_RATE_LIMITS=published`, else 0.
   */
  outboxBatchThreshold: number | undefined;
}

export interface OfflineBatchLimits {
  /** `OFFLINE_BATCH_PART_BYTES`: plain bytes per part, ≤ KSeF's 100 MB. */
  partBytes: number;
  /** `OFFLINE_BATCH_MAX_BYTES`: invoice bytes one session carries; the archive is built in memory, so it bounds memory too. */
  maxBytes: number;
  /** `OFFLINE_BATCH_MAX_INVOICES`: invoices one session carries, ≤ KSeF's 10,000. */
  maxInvoices: number;
}

/** KSeF's batch limits: parts of ≤ 100 MB before encryption, ≤ 50 parts, ≤ 10,000 invoices per session. */
const KSEF_PART_BYTES = 100_000_000;
const KSEF_MAX_PARTS = 50;
const KSEF_MAX_INVOICES = 10_000;

function offlineBatch(env: NodeJS.ProcessEnv): OfflineBatchLimits {
  const limits = {
    partBytes: int(env.OFFLINE_BATCH_PART_BYTES, KSEF_PART_BYTES, 'OFFLINE_BATCH_PART_BYTES'),
    maxBytes: int(env.OFFLINE_BATCH_MAX_BYTES, 500_000_000, 'OFFLINE_BATCH_MAX_BYTES'),
    maxInvoices: int(env.OFFLINE_BATCH_MAX_INVOICES, KSEF_MAX_INVOICES, 'OFFLINE_BATCH_MAX_INVOICES'),
  };
  if (limits.partBytes < 1 || limits.partBytes > KSEF_PART_BYTES) throw new Error(`OFFLINE_BATCH_PART_BYTES must be 1..${KSEF_PART_BYTES} (KSeF's part limit)`);
  if (limits.maxInvoices < 1 || limits.maxInvoices > KSEF_MAX_INVOICES) throw new Error(`OFFLINE_BATCH_MAX_INVOICES must be 1..${KSEF_MAX_INVOICES} (KSeF's session limit)`);
  // The archive can be a little larger than the invoices (zip headers): one part of headroom.
  if (limits.maxBytes < 1 || Math.ceil(limits.maxBytes / limits.partBytes) > KSEF_MAX_PARTS - 1) {
    throw new Error(`OFFLINE_BATCH_MAX_BYTES must be 1..${(KSEF_MAX_PARTS - 1) * limits.partBytes}: KSeF takes at most ${KSEF_MAX_PARTS} parts of OFFLINE_BATCH_PART_BYTES`);
  }
  return limits;
}

const OFFICIAL_HOSTS: Record<KsefEnvironmentName, string> = {
  test: 'https://api-test.ksef.mf.gov.pl/v2',
  demo: 'https://api-demo.ksef.mf.gov.pl/v2',
  prod: 'https://api.ksef.mf.gov.pl/v2',
};

const url = (value: string | undefined, fallback: string, name: string): string => {
  if (!value) return fallback;
  try {
    const parsed = new URL(value);
    if (!/^https?:$/.test(parsed.protocol)) throw new Error();
  } catch {
    throw new Error(`${name} must be an http(s) URL such as ${fallback}, got "${value}"`);
  }
  return value.replace(/\/+$/, '');
};

const int = (value: string | undefined, fallback: number, name: string): number => {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a non-negative integer, got "${value}"`);
  return n;
};

/** `900`, `900s`, `15m`, `1h` (a bare number is seconds); unset or 0 → 0 (off). */
function duration(value: string | undefined, name: string): number {
  if (!value) return 0;
  const m = /^(\d+)\s*(ms|s|m|h)?$/.exec(value.trim());
  if (!m) throw new Error(`${name} must be a duration such as 900, 15m or 1h, got "${value}"`);
  const unit = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 }[(m[2] ?? 's') as 'ms' | 's' | 'm' | 'h'];
  return Number(m[1]) * unit;
}

function date(value: string | undefined, fallback: string, name: string): Date {
  const parsed = new Date(value || fallback);
  if (Number.isNaN(parsed.getTime())) throw new Error(`${name} must be an ISO date-time, got "${value}"`);
  return parsed;
}

const bounded = (value: string | undefined, fallback: number, name: string, min: number, max: number): number => {
  const n = int(value, fallback, name);
  if (n < min || n > max) throw new Error(`${name} must be ${min}..${max}, got "${value}"`);
  return n;
};

function rateLimits(value: string | undefined): KsefConfig['rateLimits'] {
  if (!value) return 'published';
  if (value === 'published' || value === 'off') return value;
  throw new Error(`KSEF_RATE_LIMITS must be "published" or "off", got "${value}"`);
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): AppConfig {
  return {
    port: int(env.PORT, 3000, 'PORT'),
    host: env.HOST || '0.0.0.0',
    databaseUrl: env.DATABASE_URL || undefined,
    dataDir: path.resolve(env.DATA_DIR || 'data'),
    embeddedStorage: env.PGLITE_MEMORY === '1' ? 'memory' : 'disk',
    bodyLimit: env.BODY_LIMIT || '5mb',
    // 10,000 typical invoices (3-7 KB of XML, a third more in Base64) with room to spare.
    batchBodyLimit: env.BATCH_BODY_LIMIT || '100mb',
    authCacheTtlMs: int(env.AUTH_CACHE_TTL_MS, 30_000, 'AUTH_CACHE_TTL_MS'),
    shutdownTimeoutMs: int(env.SHUTDOWN_TIMEOUT_MS, 10_000, 'SHUTDOWN_TIMEOUT_MS'),
    pdfIdleMs: int(env.PDF_IDLE_MS, 300_000, 'PDF_IDLE_MS'),
    trustProxy: trustProxy(env.TRUST_PROXY),
    bootstrap: {
      adminEmail: env.ADMIN_EMAIL || undefined,
      adminPassword: env.ADMIN_PASSWORD || undefined,
      companyNip: env.COMPANY_NIP || undefined,
      companyName: env.COMPANY_NAME || undefined,
    },
    logLevel: logLevel(env.LOG_LEVEL),
    ksef: {
      baseUrls: {
        test: url(env.KSEF_TEST_URL, OFFICIAL_HOSTS.test, 'KSEF_TEST_URL'),
        demo: url(env.KSEF_DEMO_URL, OFFICIAL_HOSTS.demo, 'KSEF_DEMO_URL'),
        prod: url(env.KSEF_PROD_URL, OFFICIAL_HOSTS.prod, 'KSEF_PROD_URL'),
      },
      secretsKey: env.KSEF_SECRETS_KEY || undefined,
      sendWaitMs: int(env.SEND_WAIT_MS, 10_000, 'SEND_WAIT_MS'),
      requestTimeoutMs: int(env.KSEF_TIMEOUT_MS, 30_000, 'KSEF_TIMEOUT_MS'),
      maxAttempts: Math.max(1, int(env.KSEF_MAX_ATTEMPTS, 5, 'KSEF_MAX_ATTEMPTS')),
      maxRetryAfterMs: int(env.KSEF_MAX_RETRY_AFTER_MS, 60_000, 'KSEF_MAX_RETRY_AFTER_MS'),
      rateLimits: rateLimits(env.KSEF_RATE_LIMITS),
      outboxIntervalMs: int(env.OUTBOX_INTERVAL_MS, 2_000, 'OUTBOX_INTERVAL_MS'),
      outboxLeaseMs: int(env.OUTBOX_LEASE_MS, 180_000, 'OUTBOX_LEASE_MS'),
      sessionIdleMs: int(env.KSEF_SESSION_IDLE_MS, 10 * 60_000, 'KSEF_SESSION_IDLE_MS'),
      syncIntervalMs: duration(env.SYNC_INTERVAL, 'SYNC_INTERVAL'),
      syncStart: date(env.SYNC_START, '2026-02-01T00:00:00Z', 'SYNC_START'),
      offlineBatch: offlineBatch(env),
      outboxBatchThreshold: env.OUTBOX_BATCH_THRESHOLD ? int(env.OUTBOX_BATCH_THRESHOLD, 0, 'OUTBOX_BATCH_THRESHOLD') : undefined,
    },
    webhooks: {
      intervalMs: int(env.WEBHOOK_INTERVAL_MS, 1_000, 'WEBHOOK_INTERVAL_MS'),
      retryBaseMs: bounded(env.WEBHOOK_RETRY_BASE_MS, 10_000, 'WEBHOOK_RETRY_BASE_MS', 1, 3_600_000),
      concurrency: bounded(env.WEBHOOK_CONCURRENCY, 8, 'WEBHOOK_CONCURRENCY', 1, 100),
      privateAddresses: privateAddresses(env.WEBHOOK_PRIVATE_ADDRESSES),
      timeoutMs: 5_000,
      retryForMs: 24 * 3_600_000,
    },
  };
}

function logLevel(value: string | undefined): LogLevel {
  if (!value) return 'info';
  if ((logLevels as readonly string[]).includes(value)) return value as LogLevel;
  throw new Error(`LOG_LEVEL must be one of ${logLevels.join(', ')}, got "${value}"`);
}

/** `TRUST_PROXY`: unset/false → none; true; a hop count; or express's list of addresses and subnets. */
function trustProxy(value: string | undefined): boolean | string | number {
  if (!value || value === 'false') return false;
  if (value === 'true') return true;
  return /^\d+$/.test(value) ? Number(value) : value;
}

function privateAddresses(value: string | undefined): 'allow' | 'deny' {
  if (value === undefined || value === '' || value === 'allow') return 'allow';
  if (value === 'deny') return 'deny';
  throw new Error(`WEBHOOK_PRIVATE_ADDRESSES must be allow or deny, got "${value}"`);
}
