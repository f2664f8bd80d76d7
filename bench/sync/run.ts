/**
 * The incremental sync: `npx tsx bench/sync/run.ts`. The KSeF sandbox and our server in this process,
 * embedded PGlite in memory (or DATABASE_URL).
 *
 * 1. Limits off: BENCH_INVOICES (default 5,000) seeded invoices (both subject types) synced; invoices imported/s.
 * 2. Published limits on both sides (sandbox enforcing, our limiter pacing): BENCH_LIMITED (default 40)
 *    invoices synced; wall time against the least time those limits allow (the sliding 1 s / 60 s / 1 h windows
 *    of invoiceDownload and invoiceMetadata, scheduled greedily) — the ratio is the figure (goal ≥ 0.8).
 *    The same minimum for 10,000 invoices is printed: with downloads capped at 64 an hour it is days, so it is
 *    computed, not run.
 */
import got from 'got';
import { loadConfig } from '../../src/config';
import { PUBLISHED_LIMITS } from '../../src/ksef-proxy/transport/limiter';
import { silentLogger } from '../../src/logger';
import { startSandbox } from '../../src/sandbox';
import { startServer } from '../../src/server';
import { fa3, OTHER_NIP, OUR_NIP } from '../../test/support/sync-fixtures';

const COUNT = Number(process.env.BENCH_INVOICES ?? 5000);
const LIMITED = Number(process.env.BENCH_LIMITED ?? 40);
const EMAIL = 'bench@example.com';
const PASSWORD = 'bench-password-1';
const auth = `Basic ${Buffer.from(`${EMAIL}:${PASSWORD}`).toString('base64')}`;
const token = `20260101-EC-0123456789-ABCDEF0123-00|nip-${OUR_NIP}|${'ab'.repeat(32)}`;
const DAY = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);

/** Least time (ms) to start `n` calls under sliding windows [perSecond, perMinute, perHour], starting at 0. */
export function minimumMs(n: number, limits: readonly number[]): number {
  const windows = [1_000, 60_000, 3_600_000];
  const starts: number[] = [];
  for (let i = 0; i < n; i++) {
    let t = starts.length ? starts[starts.length - 1] : 0;
    for (let w = 0; w < 3; w++) {
      const limit = limits[w];
      if (Number.isFinite(limit) && starts.length >= limit) t = Math.max(t, starts[starts.length - limit] + windows[w]);
    }
    starts.push(t);
  }
  return starts.length ? starts[starts.length - 1] : 0;
}

async function run(n: number, limits: 'off' | 'published', prefix: string) {
  const sandbox = await startSandbox({ rateLimits: limits, faultsEnabled: true });
  const config = loadConfig({
    PORT: '0',
    HOST: '127.0.0.1',
    ADMIN_EMAIL: EMAIL,
    ADMIN_PASSWORD: PASSWORD,
    COMPANY_NIP: OUR_NIP,
    KSEF_TEST_URL: sandbox.apiUrl,
    KSEF_RATE_LIMITS: limits,
    KSEF_SECRETS_KEY: 'c2VjcmV0cy1rZXktZm9yLWZhc3Qta3NlZi10ZXN0cyE=',
    OUTBOX_INTERVAL_MS: '0',
    KSEF_MAX_RETRY_AFTER_MS: '3600000',
    SYNC_START: new Date(Date.now() - 86_400_000).toISOString(),
    ...(process.env.DATABASE_URL ? { DATABASE_URL: process.env.DATABASE_URL } : {}),
  });
  const server = await startServer({
    config,
    logger: silentLogger,
    database: process.env.DATABASE_URL ? { kind: 'postgres', url: process.env.DATABASE_URL } : { kind: 'pglite', dataDir: null },
  });
  try {
    await got.put(`${server.url}/ksef/test/credentials`, { json: { ksefToken: token }, headers: { Authorization: auth } });
    const invoices = Array.from({ length: n }, (_, i) => ({
      xml: fa3({ seller: i % 2 ? OTHER_NIP : OUR_NIP, buyer: i % 2 ? OUR_NIP : OTHER_NIP, number: `${prefix}/${i}`, issueDate: DAY, net: 100, vat: 23 }),
    }));
    for (let i = 0; i < n; i += 500) await got.post(`${sandbox.url}/sandbox/invoices`, { json: { invoices: invoices.slice(i, i + 500) } });
    await new Promise((r) => setTimeout(r, 20)); // past the sandbox's HWM (now − 1 ms)
    const started = process.hrtime.bigint();
    const res = await got.post(`${server.url}/invoices/test/sync`, { headers: { Authorization: auth }, responseType: 'json', timeout: { request: 24 * 3_600_000 } });
    const ms = Number(process.hrtime.bigint() - started) / 1e6;
    const body = res.body as { inserted: number };
    if (body.inserted !== n) throw new Error(`expected ${n} inserted, got ${body.inserted}`);
    return ms;
  } finally {
    await server.close();
    await sandbox.close();
  }
}

async function main() {
  const offMs = await run(COUNT, 'off', 'OFF');
  console.log(`limits off: ${COUNT} invoices in ${(offMs / 1000).toFixed(2)} s = ${((COUNT * 1000) / offMs).toFixed(0)} invoices/s imported`);

  const limitedMs = await run(LIMITED, 'published', 'LIM');
  // Two subject types, one metadata query each (one window, one page) plus the downloads.
  const floor = Math.max(minimumMs(LIMITED, PUBLISHED_LIMITS.invoiceDownload), minimumMs(2, PUBLISHED_LIMITS.invoiceMetadata));
  console.log(
    `published limits: ${LIMITED} invoices in ${(limitedMs / 1000).toFixed(1)} s; the limits allow ${(floor / 1000).toFixed(1)} s at best → ` +
      `ratio ${(floor / limitedMs).toFixed(2)} of the limit-bound rate (goal ≥ 0.8)`,
  );
  const tenK = minimumMs(10_000, PUBLISHED_LIMITS.invoiceDownload);
  console.log(`10,000 invoices under the published limits need at least ${(tenK / 3_600_000).toFixed(1)} h of downloads (64/h); not run`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
