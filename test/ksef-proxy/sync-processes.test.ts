import { jest } from '@jest/globals';
import got from 'got';
import { type Kysely, sql } from 'kysely';
import type { Database } from '../../src/db/schema.js';
import { openModeToken } from '../support/ksef.js';
import type { ServerProcess } from '../support/process.js';
import { COMPANY_NIP, adminAuth } from '../support/server.js';
import { at, fa3, OTHER_NIP, OUR_NIP } from '../support/sync-fixtures.js';
import { describeMultiProcess, type MultiProcessStack, startMultiProcessStack, until } from '../support/multi-process.js';

/**
 * The background sync across processes, KSeF's published limits on both sides: processes killed (SIGKILL)
 * between packages and inside one, the run shown as interrupted by the others, the next run completing with
 * nothing lost and nothing doubled; two processes asked at once. PostgreSQL only.
 */
jest.setTimeout(180_000);

const DAY = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);

describeMultiProcess('sync across processes and crashes', () => {
  let stack: MultiProcessStack;
  let db: Kysely<Database>;
  let tick = 0;
  const start = () => stack.start();
  const admin = (method: 'POST' | 'PUT' | 'DELETE', path: string, json?: object) => stack.admin(method, path, json);
  const post = (p: ServerProcess) => got.post<any>(`${p.url}/invoices/test/sync`, { headers: { Authorization: adminAuth }, throwHttpErrors: false, responseType: 'json', timeout: { request: 10_000 } });
  const state = async (p: ServerProcess) => (await got(`${p.url}/invoices/test/sync`, { headers: { Authorization: adminAuth }, responseType: 'json', timeout: { request: 10_000 } })).body as any;
  /** A run started on `p` and followed to its end; one that did not complete fails with what `p` logged. */
  const toEnd = async (p: ServerProcess) => {
    const res = await post(p);
    expect(res.statusCode).toBe(202);
    const st = await until('the sync done', async () => {
      const st = await state(p);
      return st.running ? undefined : st;
    }, 120_000);
    if (st.interrupted || st.lastError) {
      const warnings = p.output().split('\n').filter((l) => /"level":(40|50|60)/.test(l));
      throw new Error(`the run did not complete: ${JSON.stringify({ started: res.body, ended: st })}\n${warnings.join('\n')}`);
    }
    return st;
  };
  /**
   * `count` invoices (a third issued), stored 1 ms apart from now on as KSeF would (after every checkpoint so
   * far), so packages can be cut anywhere; resolves once all of them are below KSeF's HWM.
   */
  const seed = async (prefix: string, count: number) => {
    tick = Math.max(tick, Date.now());
    const invoices = [];
    for (let i = 0; i < count; i++) {
      const issued = i % 3 === 0;
      const d = at(tick++);
      invoices.push({ sellerNip: issued ? OUR_NIP : OTHER_NIP, buyerNip: issued ? OTHER_NIP : OUR_NIP, invoiceNumber: `${prefix}/${i}`, issueDate: DAY, invoicingDate: d, acquisitionDate: d, permanentStorageDate: d });
    }
    await admin('POST', '/sandbox/invoices', { invoices });
    await until('the invoices stored', async () => (Date.now() > tick + 5 ? true : undefined), 30_000, 20);
  };
  const rowCount = async () => Number((await db.selectFrom('synced_invoices').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
  const uniqueCount = async () => (await db.selectFrom('synced_invoices').select(sql<number>`count(distinct ksef_number)::int`.as('n')).executeTakeFirstOrThrow()).n;
  const staged = async () => Number((await db.selectFrom('sync_staged_invoices').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
  /** The counters advance with the rows, in the same transaction: exactly once per invoice, crash or not. */
  const countsMatchRows = async () => {
    const meta = await db.selectFrom('invoice_sync_meta').select(['subject_type', 'invoice_count']).execute();
    const rows = await db.selectFrom('synced_invoices').select(['direction', (eb) => eb.fn.countAll<number>().as('n')]).groupBy('direction').execute();
    const of = (direction: string) => Number(rows.find((r) => r.direction === direction)?.n ?? 0);
    expect(meta.find((m) => m.subject_type === 'Subject1')?.invoice_count ?? 0).toBe(of('issued'));
    expect(meta.find((m) => m.subject_type === 'Subject2')?.invoice_count ?? 0).toBe(of('received'));
  };

  beforeAll(async () => {
    stack = await startMultiProcessStack({ OUTBOX_INTERVAL_MS: '0', KSEF_RATE_LIMITS: 'published', SYNC_START: at(Date.now() - 86_400_000) }, { rateLimits: 'published', exportInvoiceLimit: 250 });
    ({ db } = stack);
  });
  afterAll(() => stack?.close());

  it('killed between packages: the others show it interrupted, the next run completes with nothing lost or doubled', async () => {
    const a = await start();
    const put = await got.put(`${a.url}/ksef/test/credentials`, { json: { ksefToken: openModeToken(COMPANY_NIP) }, headers: { Authorization: adminAuth }, responseType: 'json' });
    expect(put.statusCode).toBe(200);
    // Issued and received only: KSeF allows 20 exports an hour and this file needs most of them.
    const off = await got.put(`${a.url}/invoices/test/sync/settings`, { json: { thirdParty: false, authorized: false }, headers: { Authorization: adminAuth }, responseType: 'json' });
    expect(off.body).toMatchObject({ thirdParty: false, authorized: false });
    await seed('CRASH', 1200); // 400 issued (2 packages of ≤ 250), 800 received (4)
    await admin('POST', '/sandbox/faults/latency', { ms: 150 });
    const started = Date.now();
    const first = await post(a);
    expect(first.statusCode).toBe(202);
    expect(Date.now() - started).toBeLessThan(3_000);
    expect(first.body).toMatchObject({ running: true, trigger: 'requested', interrupted: false });
    const seen = await until('a received package stored', async () => {
      const st = await state(a);
      return st.subjects[1].packages >= 1 ? st : undefined;
    });
    // 250 (cut) + 151 (from the cut's date on: its last invoice again, kept once).
    expect(seen.subjects[0]).toMatchObject({ packages: 2, invoices: 401, window: { truncated: false } });
    await a.kill();
    await admin('DELETE', '/sandbox/faults');
    const partial = await rowCount();
    expect(partial).toBeGreaterThanOrEqual(400 + 250);
    expect(partial).toBeLessThan(1200);
    await countsMatchRows();

    const b = await start();
    const dead = await until('the dead run released', async () => {
      const st = await state(b);
      return st.running ? undefined : st;
    });
    expect(dead).toMatchObject({ running: false, phase: 'idle', runId: first.body.runId, finishedAt: null, interrupted: true });
    expect(dead.lastError).toMatch(/interrupted/);
    const done = await toEnd(b);
    expect(done).toMatchObject({ interrupted: false, lastError: null });
    expect(done.runId).not.toBe(first.body.runId);
    expect(await rowCount()).toBe(1200);
    expect(await uniqueCount()).toBe(1200);
    await countsMatchRows();
    await b.stop();
  });

  it('killed inside a package (parts still downloading): its staging is discarded and the next run stores it once', async () => {
    // One package of many small parts, each part download slowed down.
    stack.sandbox.state.options.exportInvoiceLimit = 10_000;
    stack.sandbox.state.options.exportPartBytes = 4_000;
    const a = await start();
    const before = await rowCount();
    await seed('MID', 600); // 200 issued, 400 received
    // An original and its correction, so links are checked across the crash too.
    const seeded = (await admin('POST', '/sandbox/invoices', { invoices: [{ xml: fa3({ seller: OTHER_NIP, buyer: OUR_NIP, number: 'MID/FV', issueDate: DAY, net: 10, vat: 2.3 }) }] })) as { invoices: { ksefNumber: string }[] };
    const original = seeded.invoices[0].ksefNumber;
    const kor = fa3({ seller: OTHER_NIP, buyer: OUR_NIP, kind: 'KOR', number: 'MID/KOR', issueDate: DAY, net: -1, vat: -0.23, corrects: [{ number: 'MID/FV', issueDate: DAY, ksefNumber: original }] });
    await admin('POST', '/sandbox/invoices', { invoices: [{ xml: kor }] });
    await admin('POST', '/sandbox/faults/latency', { ms: 100 });
    expect((await post(a)).statusCode).toBe(202);
    await until('received invoices staged mid-package', async () => {
      const st = await state(a);
      return st.phase === 'downloading' && st.subjects[1].window && (await staged()) > 0 ? true : undefined;
    });
    await a.kill();
    await admin('DELETE', '/sandbox/faults');
    expect(await staged()).toBeGreaterThan(0); // half a package, never in the register
    expect(await rowCount()).toBe(before + 200); // only the issued package committed
    await countsMatchRows();

    const b = await start();
    await until('the dead run released', async () => ((await state(b)).running ? undefined : true));
    const done = await toEnd(b);
    expect(done).toMatchObject({ lastError: null, inserted: 402 });
    expect(await staged()).toBe(0);
    expect(await rowCount()).toBe(before + 602);
    expect(await uniqueCount()).toBe(before + 602);
    await countsMatchRows();
    const links = await got(`${b.url}/invoices/test/${original}/links`, { headers: { Authorization: adminAuth }, responseType: 'json' });
    expect((links.body as any).correctedBy).toEqual([expect.objectContaining({ invoiceNumber: 'MID/KOR', resolved: true })]);
    await b.stop();
    stack.sandbox.state.options.exportPartBytes = 50_000_000;
  });

  it('two processes asked at once: one run, both answer 202 with its state', async () => {
    const [a, b] = await Promise.all([start(), start()]);
    await seed('PAR', 300);
    await admin('POST', '/sandbox/faults/latency', { ms: 100 });
    const first = await post(a);
    expect(first.statusCode).toBe(202);
    const second = await post(b);
    expect(second.statusCode).toBe(202);
    expect(second.body).toMatchObject({ running: true, runId: (first.body as any).runId });
    const done = await until('the sync done', async () => {
      const st = await state(b);
      return st.running ? undefined : st;
    });
    await admin('DELETE', '/sandbox/faults');
    expect(done).toMatchObject({ runId: (first.body as any).runId, inserted: 300, lastError: null });
    expect(await uniqueCount()).toBe(await rowCount());
  });
});
