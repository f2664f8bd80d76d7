import { jest } from '@jest/globals';
import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import { adminAuth } from '../support/server.js';
import { startKsefStack, type KsefStack } from '../support/ksef.js';
import { at, fa3, OTHER_NIP, OUR_NIP, type SeedInvoice, syncToEnd } from '../support/sync-fixtures.js';

/** Incremental sync from the KSeF sandbox into the register, relations, and the register routes. */

jest.setTimeout(180_000);

const DAY = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);

describe('incremental sync and relations', () => {
  let k: KsefStack;
  const db = () => k.api.server.services.database.db;
  const http = () => k.api.http;
  const seed = async (invoices: SeedInvoice[]): Promise<{ ksefNumber: string; invoiceNumber: string }[]> =>
    ((await k.sandboxAdmin('POST', '/sandbox/invoices', { invoices: invoices as any })) as any).invoices;
  const sync = () => syncToEnd(http());
  const links = (ksefNumber: string) => http().get(`/invoices/test/${ksefNumber}/links`).set('Authorization', adminAuth);
  const count = async () => Number((await db().selectFrom('synced_invoices').select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
  const downloads = () => [...k.sandbox.state.invoicesByKsefNumber.values()].length;

  beforeAll(async () => {
    // A small truncation cap: the 2,000-invoice sync has to narrow its window several times.
    k = await startKsefStack({ sandbox: { metadataQueryLimit: 600 } });
  });
  afterAll(() => k.close());
  afterEach(() => {
    expect(k.api.conformance.violations).toEqual([]);
    k.api.conformance.violations.length = 0;
  });

  const n: Record<string, string> = {}; // invoice number → KSeF number
  const base = Date.now() - 30 * 60_000;
  const stored = (ms: number) => ({ permanentStorageDate: at(ms), acquisitionDate: at(ms), invoicingDate: at(ms) });

  it('shows the state before the first sync', async () => {
    const st = await http().get('/invoices/test/sync').set('Authorization', adminAuth);
    expect(st.status).toBe(200);
    expect(st.body).toMatchObject({ environment: 'test', running: false });
    expect(st.body).toMatchObject({ phase: 'idle', runId: null, interrupted: false, lastError: null, fetched: 0, hwm: { issued: null, received: null } });
    expect(st.body.subjects.map((s: any) => [s.subjectType, s.direction, s.enabled, s.hwm, s.invoiceCount, s.packages, s.window])).toEqual([
      ['Subject1', 'issued', true, null, 0, 0, null],
      ['Subject2', 'received', true, null, 0, 0, null],
      ['Subject3', 'third-party', true, null, 0, 0, null],
      ['SubjectAuthorized', 'authorized', true, null, 0, 0, null],
    ]);
  });

  it('syncs 2,000 invoices of both subject types with advance groups and correction chains: exact counts, every link right', async () => {
    // Originals first (their KSeF numbers are cited by what follows).
    const originals: SeedInvoice[] = [
      { xml: fa3({ seller: OUR_NIP, buyer: OTHER_NIP, kind: 'ZAL', number: 'ZAL/A/1', issueDate: DAY, net: 1000, vat: 230 }), ...stored(base + 1_000) },
      { xml: fa3({ seller: OUR_NIP, buyer: OTHER_NIP, kind: 'ZAL', number: 'ZAL/A/2', issueDate: DAY, net: 2000, vat: 460 }), ...stored(base + 2_000) },
      // Received advances stored AFTER their settlement: the settlement arrives first.
      { xml: fa3({ seller: OTHER_NIP, buyer: OUR_NIP, kind: 'ZAL', number: 'ZAL/B/1', issueDate: DAY, net: 300, vat: 69 }), ...stored(base + 900_000) },
      { xml: fa3({ seller: OTHER_NIP, buyer: OUR_NIP, kind: 'ZAL', number: 'ZAL/B/2', issueDate: DAY, net: 400, vat: 92 }), ...stored(base + 900_001) },
      // The original of a chain, stored after its corrections.
      { xml: fa3({ seller: OUR_NIP, buyer: OTHER_NIP, kind: 'VAT', number: 'FV/C/0', issueDate: DAY, net: 100, vat: 23 }), ...stored(base + 800_000) },
      { xml: fa3({ seller: OUR_NIP, buyer: OTHER_NIP, kind: 'VAT', number: 'FV/D/0', issueDate: DAY, net: 50, vat: 11.5 }), ...stored(base + 3_000) },
    ];
    for (const s of await seed(originals)) n[s.invoiceNumber] = s.ksefNumber;
    const second: SeedInvoice[] = [
      { xml: fa3({ seller: OUR_NIP, buyer: OTHER_NIP, kind: 'ROZ', number: 'ROZ/A', issueDate: DAY, net: 500, vat: 115, advances: [{ ksefNumber: n['ZAL/A/1'] }, { ksefNumber: n['ZAL/A/2'] }] }), ...stored(base + 4_000) },
      { xml: fa3({ seller: OUR_NIP, buyer: OTHER_NIP, kind: 'KOR_ZAL', number: 'KZ/A/1', issueDate: DAY, net: -100, vat: -23, corrects: [{ number: 'ZAL/A/1', issueDate: DAY, ksefNumber: n['ZAL/A/1'] }] }), ...stored(base + 5_000) },
      { xml: fa3({ seller: OTHER_NIP, buyer: OUR_NIP, kind: 'ROZ', number: 'ROZ/B', issueDate: DAY, net: 100, vat: 23, advances: [{ ksefNumber: n['ZAL/B/1'] }, { ksefNumber: n['ZAL/B/2'] }] }), ...stored(base - 10_000) },
      { xml: fa3({ seller: OUR_NIP, buyer: OTHER_NIP, kind: 'KOR', number: 'KOR/C/1', issueDate: DAY, net: -10, vat: -2.3, corrects: [{ number: 'FV/C/0', issueDate: DAY, ksefNumber: n['FV/C/0'] }] }), ...stored(base - 5_000) },
      // Outside KSeF by number (NrKSeFN): resolved by seller NIP + number + kind.
      { xml: fa3({ seller: OUR_NIP, buyer: OTHER_NIP, kind: 'KOR', number: 'KOR/D/1', issueDate: DAY, net: -5, vat: -1.15, corrects: [{ number: 'FV/D/0', issueDate: DAY }] }), ...stored(base + 6_000) },
    ];
    for (const s of await seed(second)) n[s.invoiceNumber] = s.ksefNumber;
    const third: SeedInvoice[] = [
      { xml: fa3({ seller: OUR_NIP, buyer: OTHER_NIP, kind: 'KOR', number: 'KOR/C/2', issueDate: DAY, net: -20, vat: -4.6, corrects: [{ number: 'KOR/C/1', issueDate: DAY, ksefNumber: n['KOR/C/1'] }] }), ...stored(base + 7_000) },
    ];
    for (const s of await seed(third)) n[s.invoiceNumber] = s.ksefNumber;
    // The bulk: 1,988 plain invoices, issued and received, EUR and PLN.
    const bulk: SeedInvoice[] = [];
    for (let i = 0; i < 1988; i++) {
      const issued = i % 2 === 0;
      bulk.push({
        xml: fa3({ seller: issued ? OUR_NIP : OTHER_NIP, buyer: issued ? OTHER_NIP : OUR_NIP, number: `BULK/${i}`, issueDate: DAY, net: 100 + (i % 7), vat: 23, currency: i % 10 === 0 ? 'EUR' : 'PLN' }),
        ...stored(base + 10_000 + i * 300),
      });
    }
    for (let i = 0; i < bulk.length; i += 500) await seed(bulk.slice(i, i + 500));
    expect(downloads()).toBe(2000);

    const res = await sync();
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ running: false, phase: 'idle', interrupted: false, lastError: null, fetched: 2000, inserted: 2000, updated: 0, linkedAdvances: 4, linkedCorrections: 4 });
    expect(await count()).toBe(2000);
    const byDirection = await db().selectFrom('synced_invoices').select(['direction', (eb) => eb.fn.countAll().as('n')]).groupBy('direction').orderBy('direction').execute();
    expect(byDirection.map((r) => [r.direction, Number(r.n)])).toEqual([
      ['issued', 994 + 9],
      ['received', 994 + 3],
    ]);
    const st = await http().get('/invoices/test/sync').set('Authorization', adminAuth);
    expect(st.body.subjects.map((s: any) => [s.invoiceCount, s.packages, s.invoices])).toEqual([
      [1003, 1, 1003],
      [997, 1, 997],
      [0, 1, 0],
      [0, 1, 0],
    ]);
    expect(st.body.subjects[0].lastSuccessAt).not.toBeNull();
    expect(st.body.subjects.every((s: any) => s.hwm && s.lastError === null && s.window.truncated === false)).toBe(true);
    // One export per subject type, no per-invoice download.
    expect(k.log.lines.filter((l) => l.includes('"path":"/invoices/exports"')).length).toBe(4);
    expect(k.log.lines.some((l) => l.includes('"path":"/invoices/ksef/'))).toBe(false);

    // Two advances + settlement (+ a correction of an advance): amounts and the remainder.
    const roz = await links(n['ROZ/A']);
    expect(roz.status).toBe(200);
    expect(roz.body.advanceGroup).toMatchObject({ advancesTotal: '3567.00', remainder: '615.00', currency: 'PLN', orderTotal: null });
    expect(roz.body.advanceGroup.settlement).toMatchObject({ ksefNumber: n['ROZ/A'], type: 'ROZ', grossAmount: '615.00', resolved: true });
    expect(roz.body.advanceGroup.advances).toEqual([
      { ksefNumber: n['ZAL/A/1'], invoiceNumber: 'ZAL/A/1', type: 'ZAL', issueDate: DAY, grossAmount: '1107.00', resolved: true },
      { ksefNumber: n['ZAL/A/2'], invoiceNumber: 'ZAL/A/2', type: 'ZAL', issueDate: DAY, grossAmount: '2460.00', resolved: true },
    ]);
    // An advance and the correction of an advance lead to the same group.
    expect((await links(n['ZAL/A/2'])).body.advanceGroup.settlement.ksefNumber).toBe(n['ROZ/A']);
    const kz = await links(n['KZ/A/1']);
    expect(kz.body.advanceGroup.settlement.ksefNumber).toBe(n['ROZ/A']);
    expect(kz.body.corrects).toEqual([expect.objectContaining({ ksefNumber: n['ZAL/A/1'], resolved: true })]);

    // The settlement that arrived before its advances.
    const rozB = await links(n['ROZ/B']);
    expect(rozB.body.advanceGroup).toMatchObject({ advancesTotal: '861.00', remainder: '123.00' });
    expect(rozB.body.advanceGroup.advances.map((a: any) => [a.ksefNumber, a.resolved])).toEqual([
      [n['ZAL/B/1'], true],
      [n['ZAL/B/2'], true],
    ]);

    // A correction of a correction, the corrections stored before the original.
    const c2 = await links(n['KOR/C/2']);
    expect(c2.body.corrects.map((c: any) => c.ksefNumber)).toEqual([n['KOR/C/1'], n['FV/C/0']]);
    expect(c2.body.correctedBy).toEqual([]);
    expect(c2.body.advanceGroup).toBeNull();
    const c0 = await links(n['FV/C/0']);
    expect(c0.body.corrects).toEqual([]);
    expect(c0.body.correctedBy.map((c: any) => [c.ksefNumber, c.type, c.grossAmount])).toEqual([
      [n['KOR/C/1'], 'KOR', '-12.30'],
      [n['KOR/C/2'], 'KOR', '-24.60'],
    ]);
    // Outside KSeF: by seller NIP + number.
    expect((await links(n['KOR/D/1'])).body.corrects).toEqual([expect.objectContaining({ ksefNumber: n['FV/D/0'], invoiceNumber: 'FV/D/0', resolved: true })]);

    // An invoice not in the register.
    expect((await links('5265877635-20260101-0123456789AB-FF')).status).toBe(404);
  });

  it('the register: filters, paging and totals per currency', async () => {
    const all = await http().get('/invoices/test?pageSize=500').set('Authorization', adminAuth);
    expect(all.status).toBe(200);
    expect(all.body.totalCount).toBe(2000);
    expect(all.body.invoices).toHaveLength(500);
    expect(all.body.totals.map((t: any) => t.currency)).toEqual(['EUR', 'PLN']);
    const received = await http().get('/invoices/test?direction=received&type=VAT&page=2&pageSize=100').set('Authorization', adminAuth);
    expect(received.body.totalCount).toBe(994);
    expect(received.body.page).toBe(2);
    expect(received.body.invoices).toHaveLength(100);
    expect(received.body.invoices.every((i: any) => i.direction === 'received' && i.type === 'VAT' && i.status === 'synced')).toBe(true);
    // Totals are over every match: the EUR bulk invoices are i % 10 === 0 (199), net 100 + i % 7.
    let net = 0;
    for (let i = 0; i < 1988; i += 10) net += 100 + (i % 7);
    const eur = all.body.totals.find((t: any) => t.currency === 'EUR');
    expect(eur.netAmount).toBe(net.toFixed(2));
    expect(eur.vatAmount).toBe((199 * 23).toFixed(2));
    const rozOnly = await http().get('/invoices/test?type=ROZ').set('Authorization', adminAuth);
    expect(rozOnly.body.invoices.map((i: any) => i.invoiceNumber).sort()).toEqual(['ROZ/A', 'ROZ/B']);
    const none = await http().get(`/invoices/test?dateFrom=2020-01-01&dateTo=2020-01-31`).set('Authorization', adminAuth);
    expect(none.body).toMatchObject({ totalCount: 0, invoices: [], totals: [] });
    const bad = await http().get('/invoices/test?dateFrom=2026-02-01&dateTo=2026-01-01').set('Authorization', adminAuth);
    expect(bad.status).toBe(400);
  });

  it('50 more → the next sync fetches only those; a settlement whose advance arrives a sync later links then', async () => {
    const items: SeedInvoice[] = [];
    for (let i = 0; i < 49; i++) items.push({ xml: fa3({ seller: OTHER_NIP, buyer: OUR_NIP, number: `MORE/${i}`, issueDate: DAY, net: 10, vat: 2.3 }) });
    items.push({ xml: fa3({ seller: OTHER_NIP, buyer: OUR_NIP, kind: 'ROZ', number: 'ROZ/LATE', issueDate: DAY, net: 80, vat: 18.4, advances: [{ number: 'ZAL/LATE/1' }] }) });
    const seeded = await seed(items);
    const res = await sync();
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ fetched: 50, inserted: 50, updated: 0, linkedAdvances: 0 });
    expect(await count()).toBe(2050);
    const rozLate = seeded.find((s) => s.invoiceNumber === 'ROZ/LATE')!.ksefNumber;
    let l = await links(rozLate);
    expect(l.body.advanceGroup.advances).toEqual([{ ksefNumber: null, invoiceNumber: 'ZAL/LATE/1', type: null, issueDate: null, grossAmount: null, resolved: false }]);
    expect(l.body.advanceGroup).toMatchObject({ advancesTotal: '0.00', remainder: '98.40' });

    const [zal] = await seed([{ xml: fa3({ seller: OTHER_NIP, buyer: OUR_NIP, kind: 'ZAL', number: 'ZAL/LATE/1', issueDate: DAY, net: 200, vat: 46 }) }]);
    const again = await sync();
    expect(again.body).toMatchObject({ fetched: 1, inserted: 1, linkedAdvances: 1 });
    l = await links(rozLate);
    expect(l.body.advanceGroup.advances).toEqual([expect.objectContaining({ ksefNumber: zal.ksefNumber, resolved: true, grossAmount: '246.00' })]);
    expect(l.body.advanceGroup.advancesTotal).toBe('246.00');
    // Nothing new: nothing fetched.
    expect((await sync()).body).toMatchObject({ fetched: 0, inserted: 0 });
  });

  it('links invoices we sent ourselves (already in the register: not downloaded again)', async () => {
    const original = fa3({ seller: OUR_NIP, buyer: OTHER_NIP, number: 'OWN/1', issueDate: DAY, net: 300, vat: 69 });
    const sent = await http().post('/invoices/test/send').set('Authorization', adminAuth).send({ invoiceXml: Buffer.from(original).toString('base64'), mode: 'online' });
    expect(sent.status).toBe(200);
    const correction = fa3({ seller: OUR_NIP, buyer: OTHER_NIP, kind: 'KOR', number: 'OWN/KOR/1', issueDate: DAY, net: -30, vat: -6.9, corrects: [{ number: 'OWN/1', issueDate: DAY, ksefNumber: sent.body.ksefNumber }] });
    const sentKor = await http().post('/invoices/test/send').set('Authorization', adminAuth).send({ invoiceXml: Buffer.from(correction).toString('base64'), mode: 'online' });
    expect(sentKor.status).toBe(200);
    const res = await sync();
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ fetched: 2, inserted: 0, updated: 0 }); // both already in the register (status sent)
    const l = await links(sent.body.ksefNumber);
    expect(l.body.correctedBy).toEqual([expect.objectContaining({ ksefNumber: sentKor.body.ksefNumber, type: 'KOR', resolved: true })]);
    const rows = await db().selectFrom('synced_invoices').select(['status', 'direction']).where('invoice_number', 'in', ['OWN/1', 'OWN/KOR/1']).execute();
    expect(rows).toEqual([
      { status: 'sent', direction: 'issued' },
      { status: 'sent', direction: 'issued' },
    ]);
  });

  it("honours KSeF's 429 + Retry-After during a sync and completes", async () => {
    const items: SeedInvoice[] = [];
    for (let i = 0; i < 20; i++) items.push({ xml: fa3({ seller: OTHER_NIP, buyer: OUR_NIP, number: `RL/${i}`, issueDate: DAY, net: 1, vat: 0.23 }) });
    await seed(items);
    await k.sandboxAdmin('POST', '/sandbox/faults/too-many-requests', { count: 3, retryAfterSeconds: 1 });
    const started = Date.now();
    const res = await sync();
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ fetched: 20, inserted: 20, lastError: null });
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    await k.sandboxAdmin('DELETE', '/sandbox/faults');
  });

  it('POST answers 202 at once; a second POST while it runs answers 202 with the same run; GET shows it moving', async () => {
    const items: SeedInvoice[] = [];
    for (let i = 0; i < 100; i++) items.push({ xml: fa3({ seller: OTHER_NIP, buyer: OUR_NIP, number: `PAR/${i}`, issueDate: DAY, net: 1, vat: 0.23 }) });
    await seed(items);
    await k.sandboxAdmin('POST', '/sandbox/faults/latency', { ms: 300 });
    const started = Date.now();
    const first = await http().post('/invoices/test/sync').set('Authorization', adminAuth);
    expect(first.status).toBe(202);
    expect(Date.now() - started).toBeLessThan(2_000); // the exports alone take > 4 × 300 ms
    expect(first.body).toMatchObject({ environment: 'test', running: true, trigger: 'requested', finishedAt: null, interrupted: false });
    expect(['exporting', 'waiting-for-limit', 'downloading', 'storing']).toContain(first.body.phase);
    const second = await http().post('/invoices/test/sync').set('Authorization', adminAuth);
    expect(second.status).toBe(202);
    expect(second.body).toMatchObject({ running: true, runId: first.body.runId });
    const phases = new Set<string>();
    let st;
    for (;;) {
      st = await http().get('/invoices/test/sync').set('Authorization', adminAuth);
      if (!st.body.running) break;
      phases.add(st.body.phase);
      await new Promise((r) => setTimeout(r, 50));
    }
    await k.sandboxAdmin('DELETE', '/sandbox/faults');
    expect(phases.size).toBeGreaterThanOrEqual(2);
    expect(st.body).toMatchObject({ runId: first.body.runId, phase: 'idle', inserted: 100, lastError: null });
    expect(st.body.finishedAt).not.toBeNull();
    expect(await count()).toBe(2050 + 1 + 2 + 20 + 100);
  });

  it('an invoice of ours still waiting for its number learns it from the sync, without a download', async () => {
    const xml = fa3({ seller: OUR_NIP, buyer: OTHER_NIP, number: 'WAIT/1', issueDate: DAY, net: 40, vat: 9.2 });
    const [seeded] = await seed([{ xml }]);
    const bytes = Buffer.from(xml, 'utf8');
    await db()
      .insertInto('synced_invoices')
      .values({
        company_id: (await db().selectFrom('companies').select('id').executeTakeFirstOrThrow()).id,
        environment: 'test',
        direction: 'issued',
        status: 'pending',
        invoice_number: 'WAIT/1',
        invoice_type: 'VAT',
        issue_date: DAY,
        seller_nip: OUR_NIP,
        seller_name: null,
        buyer_nip: OTHER_NIP,
        buyer_name: null,
        net_amount: '40.00',
        vat_amount: '9.20',
        gross_amount: '49.20',
        currency: 'PLN',
        invoice_hash: createHash('sha256').update(bytes).digest('base64'),
        xml: bytes,
        next_attempt_at: new Date(Date.now() + 3_600_000), // the outbox leaves it alone
      })
      .execute();
    const res = await sync();
    expect(res.status).toBe(202);
    expect(res.body).toMatchObject({ fetched: 1, inserted: 0, updated: 1 });
    const row = await db().selectFrom('synced_invoices').selectAll().where('invoice_number', '=', 'WAIT/1').executeTakeFirstOrThrow();
    expect(row).toMatchObject({ status: 'sent', ksef_number: seeded.ksefNumber, next_attempt_at: null });
    expect(row.permanent_storage_date).toBeInstanceOf(Date);
  });
  it("a failed write of the run's end is tried again: the run shows completed, not interrupted", async () => {
    // Fails the first update that records an end; a sequence, so the rolled-back attempt still counts.
    await sql`create sequence end_write_attempts`.execute(db());
    await sql`create function fail_first_end_write() returns trigger language plpgsql as $$
      begin
        if new.finished_at is not null and nextval('end_write_attempts') = 1 then raise exception 'injected: the end not recorded'; end if;
        return new;
      end $$`.execute(db());
    await sql`create trigger fail_first_end_write before update on invoice_sync_runs for each row execute function fail_first_end_write()`.execute(db());
    try {
      await seed([{ xml: fa3({ seller: OTHER_NIP, buyer: OUR_NIP, number: 'END/1', issueDate: DAY, net: 1, vat: 0.23 }) }]);
      const res = await sync();
      expect(res.body).toMatchObject({ running: false, interrupted: false, lastError: null, inserted: 1 });
      expect(res.body.finishedAt).not.toBeNull();
      const attempts = await sql<{ n: number }>`select last_value::int as n from end_write_attempts`.execute(db());
      expect(attempts.rows[0].n).toBe(2);
    } finally {
      await sql`drop trigger fail_first_end_write on invoice_sync_runs`.execute(db());
      await sql`drop function fail_first_end_write()`.execute(db());
      await sql`drop sequence end_write_attempts`.execute(db());
    }
  });
});

describe('sync of truncated packages in several parts', () => {
  let k: KsefStack;
  beforeAll(async () => {
    // KSeF cuts a package at 25 invoices here, and splits it into parts of 4 kB: several parts each.
    k = await startKsefStack({ sandbox: { exportInvoiceLimit: 25, exportPartBytes: 4_000 } });
  });
  afterAll(() => k.close());
  afterEach(() => {
    expect(k.api.conformance.violations).toEqual([]);
  });

  it('a window over the package cap is continued from lastPermanentStorageDate and complete', async () => {
    const base = Date.now() - 60_000;
    const items: SeedInvoice[] = [];
    for (let i = 0; i < 130; i++) {
      items.push({ xml: fa3({ seller: OTHER_NIP, buyer: OUR_NIP, number: `TR/${i}`, issueDate: DAY, net: 5, vat: 1.15 }), permanentStorageDate: at(base + i * 10), acquisitionDate: at(base + i * 10) });
    }
    await k.sandboxAdmin('POST', '/sandbox/invoices', { invoices: items as any });
    const res = await syncToEnd(k.api.http);
    expect(res.body).toMatchObject({ inserted: 130, lastError: null });
    const rows = await k.api.server.services.database.db.selectFrom('synced_invoices').select(['invoice_number', 'permanent_storage_date']).execute();
    expect(new Set(rows.map((r) => r.invoice_number)).size).toBe(130);
    expect(rows.every((r) => r.permanent_storage_date instanceof Date)).toBe(true);
    // 130 / 25 → 6 packages, each window starting at the last one's lastPermanentStorageDate (that invoice comes twice, kept once).
    const received = res.body.subjects.find((s: any) => s.subjectType === 'Subject2');
    expect(received.packages).toBeGreaterThanOrEqual(6);
    expect(received.window.truncated).toBe(false);
    expect(res.body.fetched).toBe(130 + received.packages - 1);
    const parts = [...k.sandbox.state.exports.values()].map((j) => (j.package?.parts as unknown[] | undefined)?.length ?? 0);
    expect(Math.max(...parts)).toBeGreaterThan(1);
  });
});

describe('scheduled sync (SYNC_INTERVAL)', () => {
  let k: KsefStack;
  beforeAll(async () => {
    k = await startKsefStack({ env: { SYNC_INTERVAL: '500ms' } });
  });
  afterAll(() => k.close());

  it('syncs every configured company on its own', async () => {
    const items: SeedInvoice[] = [];
    for (let i = 0; i < 5; i++) items.push({ xml: fa3({ seller: OTHER_NIP, buyer: OUR_NIP, number: `SCHED/${i}`, issueDate: DAY, net: 5, vat: 1.15 }) });
    await k.sandboxAdmin('POST', '/sandbox/invoices', { invoices: items as any });
    const db = k.api.server.services.database.db;
    const deadline = Date.now() + 20_000;
    let rows = 0;
    let st;
    while (Date.now() < deadline) {
      rows = (await db.selectFrom('synced_invoices').select('id').where('invoice_number', 'like', 'SCHED/%').execute()).length;
      st = await k.api.http.get('/invoices/test/sync').set('Authorization', adminAuth);
      if (rows === 5 && st.body.finishedAt) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(rows).toBe(5);
    const meta = await db.selectFrom('invoice_sync_meta').select(['subject_type', 'last_success_at']).orderBy('subject_type').execute();
    expect(meta.map((m) => [m.subject_type, m.last_success_at instanceof Date])).toEqual([
      ['Subject1', true],
      ['Subject2', true],
      ['Subject3', true],
      ['SubjectAuthorized', true],
    ]);
    // The next ticks (every 500 ms) find every subject type synced less than 15 minutes ago: no new export.
    const exports = k.sandbox.state.exports.size;
    await new Promise((r) => setTimeout(r, 1_500));
    expect(k.sandbox.state.exports.size).toBe(exports);
    expect(st!.body).toMatchObject({ trigger: 'scheduled', lastError: null, inserted: 5 });
  });

});
