/**
 * The incremental sync through KSeF exports: `npx tsx bench/sync/run.ts`.
 *
 * BENCH_INVOICES (default 10,000) received invoices seeded into the KSeF sandbox (in this process, published
 * limits enforced), then synced by our server running as its own OS process (published limits in its limiter)
 * into a PostgreSQL database of its own, created on the server DATABASE_URL names (default
 * postgres://postgres@127.0.0.1:5432/postgres) and dropped at the end. Measured: wall time from POST /sync
 * (202) to the run's end as GET /sync reports it (goal ≤ 2 min), and the server process's resident memory -
 * VmRSS of /proc/PID/status sampled every 50 ms - at idle before the sync and at its peak during it (goal: peak
 * ≤ idle + 200 MB). The least time KSeF's published limits allow for the same work is printed with the ratio.
 */
import { execFileSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import got from 'got';
import pg from 'pg';
import { PUBLISHED_LIMITS } from '../../src/ksef-proxy/transport/limiter.js';
import { startSandbox } from '../../src/sandbox/index.js';
import { spawnServer } from '../../test/support/process.js';
import { OTHER_NIP, OUR_NIP } from '../../test/support/sync-fixtures.js';

const COUNT = Number(process.env.BENCH_INVOICES ?? 10_000);
const ADMIN_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
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

/** The node process that runs the server: the deepest descendant of the tsx wrapper. */
function serverPid(wrapper: number): number {
  let pid = wrapper;
  for (;;) {
    let children: number[] = [];
    try {
      children = execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' }).split(/\s+/).filter(Boolean).map(Number);
    } catch {
      return pid;
    }
    if (children.length === 0) return pid;
    pid = children[0];
  }
}

const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

async function withDatabase<T>(fn: (url: string) => Promise<T>): Promise<T> {
  const name = `fastksef_bench_${process.pid}_${crypto.randomBytes(3).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  await admin.query(`create database ${name}`);
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  try {
    return await fn(url.toString());
  } finally {
    await admin.query(`drop database if exists ${name} with (force)`);
    await admin.end();
  }
}

async function main() {
  const sandbox = await startSandbox({ rateLimits: 'published', faultsEnabled: true });
  try {
    await withDatabase(async (databaseUrl) => {
      const server = await spawnServer({
        DATABASE_URL: databaseUrl,
        ADMIN_EMAIL: EMAIL,
        ADMIN_PASSWORD: PASSWORD,
        COMPANY_NIP: OUR_NIP,
        KSEF_TEST_URL: sandbox.apiUrl,
        KSEF_RATE_LIMITS: 'published',
        KSEF_SECRETS_KEY: 'c2VjcmV0cy1rZXktZm9yLWZhc3Qta3NlZi10ZXN0cyE=',
        OUTBOX_INTERVAL_MS: '0',
        SYNC_START: new Date(Date.now() - 86_400_000).toISOString(),
      });
      try {
        const pid = serverPid(server.child.pid!);
        const headers = { Authorization: auth };
        await got.put(`${server.url}/ksef/test/credentials`, { json: { ksefToken: token }, headers });
        // Received invoices only: the other subject types stay on (empty), as a company's first sync would run.
        const invoices = Array.from({ length: COUNT }, (_, i) => ({ sellerNip: OTHER_NIP, buyerNip: OUR_NIP, invoiceNumber: `BENCH/${i}`, issueDate: DAY, netAmount: 100 + (i % 50) }));
        const seeded = Date.now();
        await got.post(`${sandbox.url}/sandbox/invoices`, { json: { invoices } });
        const seedMs = Date.now() - seeded;
        await new Promise((r) => setTimeout(r, 1_000)); // past the sandbox's HWM; the server settles to idle
        const idle = rssMb(pid);
        let peak = idle;
        const sampler = setInterval(() => (peak = Math.max(peak, rssMb(pid))), 50);
        const started = process.hrtime.bigint();
        const post = await got.post(`${server.url}/invoices/test/sync`, { headers, responseType: 'json' });
        if (post.statusCode !== 202) throw new Error(`POST /sync answered ${post.statusCode}`);
        let state: any;
        for (;;) {
          state = (await got(`${server.url}/invoices/test/sync`, { headers, responseType: 'json' })).body;
          if (!state.running) break;
          await new Promise((r) => setTimeout(r, 100));
        }
        const ms = Number(process.hrtime.bigint() - started) / 1e6;
        clearInterval(sampler);
        if (state.inserted !== COUNT || state.lastError) throw new Error(`expected ${COUNT} inserted, got ${state.inserted} (${state.lastError})`);
        const exports = state.subjects.reduce((n: number, s: any) => n + s.packages, 0);
        // KSeF's limits for this work: the export starts (invoiceExport) and one status read each (invoiceExportStatus);
        // the part downloads are not limited.
        const floorMs = Math.max(minimumMs(exports, PUBLISHED_LIMITS.invoiceExport), minimumMs(exports, PUBLISHED_LIMITS.invoiceExportStatus));
        const perInvoiceMs = minimumMs(COUNT, PUBLISHED_LIMITS.invoiceDownload);
        console.log(`seeded ${COUNT} invoices in ${(seedMs / 1000).toFixed(1)} s`);
        console.log(`synced ${COUNT} received invoices into PostgreSQL in ${(ms / 1000).toFixed(1)} s (goal ≤ 120 s), ${exports} exports, ${((COUNT * 1000) / ms).toFixed(0)} invoices/s`);
        console.log(`server RSS (/proc/${pid}/status VmRSS): idle ${idle.toFixed(0)} MB, peak ${peak.toFixed(0)} MB during the sync → +${(peak - idle).toFixed(0)} MB (goal ≤ +200 MB)`);
        const ratio = floorMs > 0 ? `ratio ${(floorMs / ms).toFixed(2)} of the limit-bound rate` : 'the limits do not bound this work (ratio minimum/actual = 0.00)';
        console.log(
          `limit-bound minimum: ${(floorMs / 1000).toFixed(1)} s for ${exports} export starts (8/s, 16/min, 20/h) and their status reads; ${ratio}: ` +
            `the sync is bound by unpacking and storing. The same invoices by per-invoice download (64/h) would need ≥ ${(perInvoiceMs / 3_600_000).toFixed(1)} h`,
        );
      } finally {
        await server.stop();
      }
    });
  } finally {
    await sandbox.close();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
