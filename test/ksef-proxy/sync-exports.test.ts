import { jest } from '@jest/globals';
import { sql } from 'kysely';
import { adminAuth } from '../support/server.js';
import { startKsefStack, type KsefStack } from '../support/ksef.js';
import { until } from '../support/multi-process.js';
import { at, fa3, OTHER_NIP, OUR_NIP, type SeedInvoice, syncToEnd } from '../support/sync-fixtures.js';

/**
 * 10,000 invoices over the four subject types through KSeF exports, with KSeF's published limits enforced by
 * the sandbox and paced by our limiter: exact counts per direction, every advance and correction link, a
 * truncated package continued, and the next sync fetching only what is new.
 */

jest.setTimeout(300_000);

const DAY = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
const THIRD_NIP = '1234563218';
const GROUPS = 40;
const CHAINS = 40;
const EXPECTED = { issued: 2500, received: 4500, 'third-party': 1500, authorized: 1500 };

describe('sync of 10,000 invoices through exports under the published limits', () => {
  let k: KsefStack;
  const db = () => k.api.server.services.database.db;
  const http = () => k.api.http;
  const seed = async (invoices: object[]): Promise<{ ksefNumber: string; invoiceNumber: string }[]> =>
    ((await k.sandboxAdmin('POST', '/sandbox/invoices', { invoices: invoices as any })) as any).invoices;
  const links = (ksefNumber: string) => http().get(`/invoices/test/${ksefNumber}/links`).set('Authorization', adminAuth);
  const total = async (direction: string) => (await http().get(`/invoices/test?direction=${direction}&pageSize=1`).set('Authorization', adminAuth)).body.totalCount;
  const downloads = () => k.log.lines.filter((l) => l.includes('"path":"/invoices/ksef/')).length;
  const n: Record<string, string> = {}; // invoice number → KSeF number

  beforeAll(async () => {
    // A package holds at most 4,000 invoices here: the 4,500 received ones need a truncated package and its continuation.
    k = await startKsefStack({ sandbox: { rateLimits: 'published', exportInvoiceLimit: 4_000 }, env: { KSEF_RATE_LIMITS: 'published', SYNC_START: at(Date.now() - 86_400_000) } });
  });
  afterAll(() => k.close());
  afterEach(() => {
    expect(k.api.conformance.violations).toEqual([]);
  });

  it('seeds 10,000 invoices over the four subject types', async () => {
    const base = Date.now() - 20 * 60_000;
    // Distinct, ascending storage dates as on KSeF (1 ms apart), so truncation can move its window on.
    let tick = 0;
    const stored = () => {
      const d = at(base + tick++);
      return { invoicingDate: d, acquisitionDate: d, permanentStorageDate: d };
    };
    const originals: SeedInvoice[] = [];
    for (let g = 0; g < GROUPS; g++) {
      for (const part of [1, 2]) originals.push({ xml: fa3({ seller: OTHER_NIP, buyer: OUR_NIP, kind: 'ZAL', number: `ZAL/G${g}/${part}`, issueDate: DAY, net: 100 * part, vat: 23 * part }), ...stored() });
    }
    for (let c = 0; c < CHAINS; c++) originals.push({ xml: fa3({ seller: OUR_NIP, buyer: OTHER_NIP, number: `FV/C${c}`, issueDate: DAY, net: 1000, vat: 230 }), ...stored() });
    for (const s of await seed(originals)) n[s.invoiceNumber] = s.ksefNumber;
    const firstRefs: SeedInvoice[] = [];
    for (let g = 0; g < GROUPS; g++) {
      const advances = [{ ksefNumber: n[`ZAL/G${g}/1`] }, { ksefNumber: n[`ZAL/G${g}/2`] }];
      firstRefs.push({ xml: fa3({ seller: OTHER_NIP, buyer: OUR_NIP, kind: 'ROZ', number: `ROZ/G${g}`, issueDate: DAY, net: 500, vat: 115, advances }), ...stored() });
    }
    for (let c = 0; c < CHAINS; c++) {
      const corrects = [{ number: `FV/C${c}`, issueDate: DAY, ksefNumber: n[`FV/C${c}`] }];
      firstRefs.push({ xml: fa3({ seller: OUR_NIP, buyer: OTHER_NIP, kind: 'KOR', number: `KOR/C${c}/1`, issueDate: DAY, net: -100, vat: -23, corrects }), ...stored() });
    }
    for (const s of await seed(firstRefs)) n[s.invoiceNumber] = s.ksefNumber;
    const secondRefs: SeedInvoice[] = [];
    for (let c = 0; c < CHAINS; c++) {
      const corrects = [{ number: `KOR/C${c}/1`, issueDate: DAY, ksefNumber: n[`KOR/C${c}/1`] }];
      secondRefs.push({ xml: fa3({ seller: OUR_NIP, buyer: OTHER_NIP, kind: 'KOR', number: `KOR/C${c}/2`, issueDate: DAY, net: -50, vat: -11.5, corrects }), ...stored() });
    }
    for (const s of await seed(secondRefs)) n[s.invoiceNumber] = s.ksefNumber;
    // The bulk, written by the sandbox from a few fields each.
    const bulk: object[] = [];
    const add = (count: number, fields: (i: number) => object) => {
      for (let i = 0; i < count; i++) bulk.push({ ...fields(i), issueDate: DAY, netAmount: 100 + (i % 9), ...stored() });
    };
    add(EXPECTED.issued - 2 * CHAINS - CHAINS, (i) => ({ sellerNip: OUR_NIP, buyerNip: OTHER_NIP, invoiceNumber: `ISS/${i}` }));
    add(EXPECTED.received - 3 * GROUPS, (i) => ({ sellerNip: OTHER_NIP, buyerNip: OUR_NIP, invoiceNumber: `REC/${i}`, currency: i % 10 === 0 ? 'EUR' : 'PLN' }));
    add(EXPECTED['third-party'], (i) => ({ sellerNip: OTHER_NIP, buyerNip: THIRD_NIP, thirdPartyNip: OUR_NIP, invoiceNumber: `THI/${i}` }));
    add(EXPECTED.authorized, (i) => ({ sellerNip: OTHER_NIP, buyerNip: THIRD_NIP, authorizedNip: OUR_NIP, invoiceNumber: `AUT/${i}` }));
    const seededBulk = await seed(bulk);
    expect(seededBulk).toHaveLength(10_000 - 6 * GROUPS);
    expect(k.sandbox.state.invoicesByKsefNumber.size).toBe(10_000);
  });

  it('one sync: exact counts per direction, every link right, the truncated package continued, no per-invoice download', async () => {
    const res = await syncToEnd(http());
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ running: false, interrupted: false, lastError: null, inserted: 10_000, updated: 0, linkedAdvances: 2 * GROUPS, linkedCorrections: 2 * CHAINS });
    // The received ones came in two packages: 4,000 (truncated), then the rest from its lastPermanentStorageDate on.
    expect(res.body.subjects.map((s: any) => [s.subjectType, s.packages, s.window.truncated, s.invoiceCount, s.lastError])).toEqual([
      ['Subject1', 1, false, EXPECTED.issued, null],
      ['Subject2', 2, false, EXPECTED.received, null],
      ['Subject3', 1, false, EXPECTED['third-party'], null],
      ['SubjectAuthorized', 1, false, EXPECTED.authorized, null],
    ]);
    expect(res.body.subjects[1].invoices).toBe(EXPECTED.received + 1); // the invoice at the cut comes twice, is kept once
    expect(downloads()).toBe(0);

    for (const [direction, count] of Object.entries(EXPECTED)) expect(await total(direction)).toBe(count);
    const unique = await db().selectFrom('synced_invoices').select(sql<number>`count(distinct ksef_number)::int`.as('n')).executeTakeFirstOrThrow();
    expect(unique.n).toBe(10_000);
    const withDates = await db().selectFrom('synced_invoices').select((eb) => eb.fn.countAll<number>().as('n')).where('permanent_storage_date', 'is not', null).executeTakeFirstOrThrow();
    expect(Number(withDates.n)).toBe(10_000);
    expect(Number((await db().selectFrom('sync_staged_invoices').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n)).toBe(0);

    // Every advance and every correction resolved to the right row (by KSeF number), in the database…
    const advances = await db()
      .selectFrom('advance_group_invoices as a')
      .innerJoin('advance_groups as g', 'g.id', 'a.group_id')
      .innerJoin('synced_invoices as s', 's.id', 'a.advance_invoice_id')
      .select(['g.settlement_invoice_number', 's.invoice_number'])
      .execute();
    expect(advances).toHaveLength(2 * GROUPS);
    expect(advances.every((a) => a.invoice_number.replace(/^ZAL\/(G\d+)\/\d$/, 'ROZ/$1') === a.settlement_invoice_number)).toBe(true);
    const corrections = await db()
      .selectFrom('invoice_corrections as c')
      .innerJoin('synced_invoices as k', 'k.id', 'c.correction_invoice_id')
      .innerJoin('synced_invoices as o', 'o.id', 'c.corrected_invoice_id')
      .select(['k.invoice_number as correction', 'o.invoice_number as corrected'])
      .execute();
    expect(corrections).toHaveLength(2 * CHAINS);
    const expectedPairs = Array.from({ length: CHAINS }, (_, c) => [
      [`KOR/C${c}/1`, `FV/C${c}`],
      [`KOR/C${c}/2`, `KOR/C${c}/1`],
    ]).flat();
    expect(corrections.map((c) => [c.correction, c.corrected]).sort()).toEqual(expectedPairs.sort());
    // …and through the API.
    for (const g of [0, GROUPS - 1]) {
      const l = await links(n[`ROZ/G${g}`]);
      expect(l.status).toBe(200);
      expect(l.body.advanceGroup).toMatchObject({ advancesTotal: '369.00', remainder: '615.00' });
      expect(l.body.advanceGroup.advances.map((a: any) => [a.ksefNumber, a.resolved])).toEqual([
        [n[`ZAL/G${g}/1`], true],
        [n[`ZAL/G${g}/2`], true],
      ]);
    }
    for (const c of [0, CHAINS - 1]) {
      const l = await links(n[`KOR/C${c}/2`]);
      expect(l.body.corrects.map((x: any) => x.ksefNumber)).toEqual([n[`KOR/C${c}/1`], n[`FV/C${c}`]]);
      const o = await links(n[`FV/C${c}`]);
      expect(o.body.correctedBy.map((x: any) => [x.ksefNumber, x.grossAmount])).toEqual([
        [n[`KOR/C${c}/1`], '-123.00'],
        [n[`KOR/C${c}/2`], '-61.50'],
      ]);
    }
  });

  it('50 more → the next sync fetches only those: one small package per subject type, no download', async () => {
    const exportsBefore = new Set(k.sandbox.state.exports.keys());
    const more: object[] = [];
    for (let i = 0; i < 20; i++) more.push({ sellerNip: OTHER_NIP, buyerNip: OUR_NIP, invoiceNumber: `MORE/REC/${i}` });
    for (let i = 0; i < 10; i++) more.push({ sellerNip: OUR_NIP, buyerNip: OTHER_NIP, invoiceNumber: `MORE/ISS/${i}` });
    for (let i = 0; i < 10; i++) more.push({ sellerNip: OTHER_NIP, buyerNip: THIRD_NIP, thirdPartyNip: OUR_NIP, invoiceNumber: `MORE/THI/${i}` });
    for (let i = 0; i < 10; i++) more.push({ sellerNip: OTHER_NIP, buyerNip: THIRD_NIP, authorizedNip: OUR_NIP, invoiceNumber: `MORE/AUT/${i}` });
    await seed(more);
    await new Promise((r) => setTimeout(r, 5)); // past the sandbox's HWM (now − 1 ms)
    const res = await syncToEnd(http());
    expect(res.body).toMatchObject({ lastError: null, fetched: 50, inserted: 50, updated: 0 });
    const fresh = [...k.sandbox.state.exports.values()].filter((j) => !exportsBefore.has(j.referenceNumber));
    expect(fresh.map((j) => [j.package?.invoiceCount, (j.package?.parts as unknown[]).length, j.package?.isTruncated])).toEqual([
      [10, 1, false],
      [20, 1, false],
      [10, 1, false],
      [10, 1, false],
    ]);
    expect(downloads()).toBe(0);
    expect(await total('received')).toBe(EXPECTED.received + 20);
    expect((await http().get('/invoices/test?pageSize=1').set('Authorization', adminAuth)).body.totalCount).toBe(10_050);
  });

  it('switching the third-party and authorized subject types off: the next sync exports only issued and received', async () => {
    const bad = await http().put('/invoices/test/sync/settings').set('Authorization', adminAuth).send({ thirdParty: 'no' });
    expect(bad.status).toBe(400);
    expect(JSON.stringify(bad.body)).toContain('thirdParty');
    const put = await http().put('/invoices/test/sync/settings').set('Authorization', adminAuth).send({ thirdParty: false, authorized: false });
    expect(put.status).toBe(200);
    expect(put.body).toEqual({ environment: 'test', thirdParty: false, authorized: false });
    const exportsBefore = k.sandbox.state.exports.size;
    const res = await syncToEnd(http());
    expect(res.body).toMatchObject({ lastError: null, inserted: 0 });
    expect(res.body.subjects.map((s: any) => [s.subjectType, s.enabled, s.packages])).toEqual([
      ['Subject1', true, 1],
      ['Subject2', true, 1],
      ['Subject3', false, 0],
      ['SubjectAuthorized', false, 0],
    ]);
    expect(k.sandbox.state.exports.size).toBe(exportsBefore + 2);
    // One invoice on demand is still one download, and is kept under where we stand on it.
    const [late] = await seed([{ sellerNip: OTHER_NIP, buyerNip: THIRD_NIP, thirdPartyNip: OUR_NIP, invoiceNumber: 'LATE/THI' }]);
    const got = await http().get(`/invoices/test/${late.ksefNumber}`).set('Authorization', adminAuth);
    expect(got.status).toBe(200);
    expect(downloads()).toBe(1);
    const row = await db().selectFrom('synced_invoices').select(['direction', 'status']).where('ksef_number', '=', late.ksefNumber).executeTakeFirstOrThrow();
    expect(row).toEqual({ direction: 'third-party', status: 'synced' });
  });

  it("KSeF's exports used up (16 a minute, 20 an hour): the run waits for the limit, and its state says so", async () => {
    await http().put('/invoices/test/sync/settings').set('Authorization', adminAuth).send({ thirdParty: true, authorized: true });
    // 11 exports so far; each run takes 4 more: within three runs one has to wait.
    let waiting: any;
    for (let run = 0; run < 3 && !waiting; run++) {
      expect((await http().post('/invoices/test/sync').set('Authorization', adminAuth)).status).toBe(202);
      const st = await until('the run waiting or done', async () => {
        const body = (await http().get('/invoices/test/sync').set('Authorization', adminAuth)).body;
        return body.phase === 'waiting-for-limit' || !body.running ? body : undefined;
      }, 60_000, 20);
      if (st.running) waiting = st;
      else expect(st.lastError).toBeNull();
    }
    expect(waiting).toMatchObject({ running: true, phase: 'waiting-for-limit', finishedAt: null, lastError: null });
    // The server stopping now (afterAll) cuts the wait short; the run is then recorded as interrupted.
  });
});
