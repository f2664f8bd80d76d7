import { randomBytes } from 'node:crypto';

/** Rate-limit groups of `GET /rate-limits` (PROTOCOL.md §11) plus `auth`, the per-IP limit of the auth endpoints. */
export const RATE_LIMIT_GROUPS = [
  'onlineSession',
  'batchSession',
  'invoiceSend',
  'invoiceStatus',
  'sessionList',
  'sessionInvoiceList',
  'sessionMisc',
  'invoiceMetadata',
  'invoiceExport',
  'invoiceExportStatus',
  'invoiceDownload',
  'other',
  'auth',
] as const;
export type RateLimitGroup = (typeof RATE_LIMIT_GROUPS)[number];

export interface RateLimitValues {
  perSecond?: number;
  perMinute?: number;
  perHour?: number;
}

/** A custom table: groups left out are unlimited. */
export type RateLimitTable = Partial<Record<RateLimitGroup, RateLimitValues>>;

export type RateLimitSetting = 'off' | 'published' | RateLimitTable;

export interface SandboxOptions {
  /** Injectable clock; every date the sandbox reports or compares comes from it. */
  now?: () => Date;
  /** Injectable id/secret generation (default crypto.randomBytes). */
  random?: (bytes: number) => Buffer;
  /** 'open': any KSeF token of the official shape works for the context it names; 'strict': only registered tokens. */
  tokenMode?: 'open' | 'strict';
  /** Auth operation status 100 -> 200 after this many ms (of the injected clock). */
  authDelayMs?: number;
  /** Real-time delay of each processing step (invoice 100 -> 150 -> final; session 170/150 -> final). */
  processingDelayMs?: number;
  /** acquisitionDate -> permanentStorageDate (clock ms); before it the invoice cannot be downloaded (21165). */
  permanentStorageDelayMs?: number;
  accessTokenTtlSeconds?: number;
  refreshTokenTtlSeconds?: number;
  rateLimits?: RateLimitSetting;
  /** Mounts the non-KSeF admin API under /sandbox/*. */
  faultsEnabled?: boolean;
  /** Base of the absolute URLs the sandbox returns (UPO links, part uploads); default: the listening address. */
  publicBaseUrl?: string;
  /** Record cap of one metadata query (isTruncated); default 10 000 as on KSeF. */
  metadataQueryLimit?: number;
  /** Invoice cap of one export package; default 10 000 as on KSeF. */
  exportInvoiceLimit?: number;
  /** Largest (unencrypted) part of an export package in bytes; default 50 000 000 as on KSeF. Small values force several parts. */
  exportPartBytes?: number;
  /** Reject invoices whose P_1 is after the day they were received (status 450); default true. */
  rejectFutureIssueDate?: boolean;
  /** Certificate requests a subject may ever file (`/certificates/limits` enrollment); default KSeF's: 300 for a NIP, 12 for a PESEL or fingerprint. */
  maxCertificateEnrollments?: number;
  /** Active KSeF certificates a subject may hold (`/certificates/limits` certificate); default KSeF's: 100 for a NIP, 6 for a PESEL or fingerprint. */
  maxActiveCertificates?: number;
  /**
   * KSeF serves certificate enrollment (and revocation) only to callers who signed in with a signature; true
   * lets a KSeF-token caller act as the company seal of its context's NIP, as the sandbox did before it had
   * XAdES sign-in. Default false.
   */
  certificatesWithTokenAuth?: boolean;
}

export interface ResolvedOptions {
  now: () => Date;
  random: (bytes: number) => Buffer;
  tokenMode: 'open' | 'strict';
  authDelayMs: number;
  processingDelayMs: number;
  permanentStorageDelayMs: number;
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
  rateLimits: RateLimitSetting;
  faultsEnabled: boolean;
  publicBaseUrl?: string;
  metadataQueryLimit: number;
  exportInvoiceLimit: number;
  exportPartBytes: number;
  rejectFutureIssueDate: boolean;
  maxCertificateEnrollments?: number;
  maxActiveCertificates?: number;
  certificatesWithTokenAuth: boolean;
}

/** crypto.randomBytes drawn from a pool: ids are minted per request, and small sync calls are costly. */
function pooledRandomBytes(): (bytes: number) => Buffer {
  let pool = Buffer.alloc(0);
  let offset = 0;
  return (bytes) => {
    if (bytes > 1024) return randomBytes(bytes);
    if (offset + bytes > pool.length) {
      pool = randomBytes(16 * 1024);
      offset = 0;
    }
    offset += bytes;
    return Buffer.from(pool.subarray(offset - bytes, offset));
  };
}

const nonNegative = (name: string, value: number | undefined, fallback: number): number => {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value < 0) throw new RangeError(`SandboxOptions.${name} must be a non-negative number`);
  return value;
};

const count = (name: string, value: number | undefined, fallback: number): number => {
  const v = nonNegative(name, value, fallback);
  if (!Number.isInteger(v)) throw new RangeError(`SandboxOptions.${name} must be an integer`);
  return v;
};

const optionalCount = (name: string, value: number | undefined): number | undefined =>
  value === undefined ? undefined : count(name, value, 0);

export function resolveOptions(options: SandboxOptions = {}): ResolvedOptions {
  const positive = (name: string, value: number | undefined, fallback: number) => {
    const v = nonNegative(name, value, fallback);
    if (v === 0) throw new RangeError(`SandboxOptions.${name} must be positive`);
    return v;
  };
  return {
    now: options.now ?? (() => new Date()),
    random: options.random ?? pooledRandomBytes(),
    tokenMode: options.tokenMode ?? 'open',
    authDelayMs: nonNegative('authDelayMs', options.authDelayMs, 0),
    processingDelayMs: nonNegative('processingDelayMs', options.processingDelayMs, 0),
    permanentStorageDelayMs: nonNegative('permanentStorageDelayMs', options.permanentStorageDelayMs, 0),
    accessTokenTtlSeconds: positive('accessTokenTtlSeconds', options.accessTokenTtlSeconds, 900),
    refreshTokenTtlSeconds: positive('refreshTokenTtlSeconds', options.refreshTokenTtlSeconds, 7 * 24 * 3600),
    rateLimits: options.rateLimits ?? 'off',
    faultsEnabled: options.faultsEnabled ?? false,
    publicBaseUrl: options.publicBaseUrl?.replace(/\/+$/, ''),
    metadataQueryLimit: positive('metadataQueryLimit', options.metadataQueryLimit, 10_000),
    exportInvoiceLimit: positive('exportInvoiceLimit', options.exportInvoiceLimit, 10_000),
    exportPartBytes: positive('exportPartBytes', options.exportPartBytes, 50_000_000),
    rejectFutureIssueDate: options.rejectFutureIssueDate ?? true,
    maxCertificateEnrollments: optionalCount('maxCertificateEnrollments', options.maxCertificateEnrollments),
    maxActiveCertificates: optionalCount('maxActiveCertificates', options.maxActiveCertificates),
    certificatesWithTokenAuth: options.certificatesWithTokenAuth ?? false,
  };
}
