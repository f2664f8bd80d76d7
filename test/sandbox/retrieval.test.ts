import { createDecipheriv, randomBytes } from 'node:crypto';
import { unzipSync } from 'fflate';
import { describeWithShared } from '../support/shared.js';
import { bearer, exceptionCode, exceptionDetails } from './support/http.js';
import { sha256Base64, Tokens } from './support/independent-client.js';
import { BUYER_NIP, FakeClock, invoiceVariant, openModeToken, OTHER_NIP, SELLER_NIP, startTestSandbox, TestSandbox, uniqueNumber } from './support/sandbox.js';

type Metadata = Record<string, any>;
interface Page {
  hasMore: boolean;
  isTruncated: boolean;
  permanentStorageHwmDate?: string | null;
  invoices: Metadata[];
}

const THIRD_NIP = '9512345678';
const day = 24 * 3600_000;

describeWithShared('sandbox: invoice retrieval, metadata queries and exports', () => {
  const clock = new FakeClock(new Date());
  let t: TestSandbox;
  let buyer: Tokens;
  let seller: Tokens;
  const base = clock.now().getTime() - 20 * day;
  const SEEDED = 2_000;

  beforeAll(async () => {
    t = await startTestSandbox({ now: clock.now, faultsEnabled: true, metadataQueryLimit: 500, exportInvoiceLimit: 300 });
    // 2 000 purchase invoices of BUYER_NIP from five sellers, stored one minute apart.
    const invoices = Array.from({ length: SEEDED }, (_, i) => ({
      sellerNip: ['5265877635', '7352765225', '1111111111', '2222222222', '3333333333'][i % 5],
      buyerNip: BUYER_NIP,
      kind: i % 10 === 0 ? 'KOR' : 'VAT',
      invoiceNumber: `SEED/${i}`,
      issueDate: new Date(base + i * 60_000).toISOString().slice(0, 10),
      currency: i % 4 === 0 ? 'EUR' : 'PLN',
      netAmount: 100 + i,
      invoicingDate: new Date(base + i * 60_000).toISOString(),
      permanentStorageDate: new Date(base + i * 60_000 + 5_000).toISOString(),
    }));
    const seeded = await t.admin.post('invoices', { json: { invoices } });
    expect(seeded.statusCode).toBe(201);
    expect(seeded.body.invoices).toHaveLength(SEEDED);
    buyer = await t.client.authenticate(openModeToken(BUYER_NIP), { type: 'Nip', value: BUYER_NIP });
    seller = await t.client.authenticate(openModeToken(SELLER_NIP), { type: 'Nip', value: SELLER_NIP });
  });
  afterAll(() => t.close());

  const query = (tokens: Tokens, filters: Record<string, unknown>, params: Record<string, string | number> = {}) =>
    t.client.queryMetadata<Page>(tokens.accessToken, filters, params);

  const range = (from: number, to?: number, dateType = 'PermanentStorage') => ({
    dateType,
    from: new Date(from).toISOString(),
    ...(to === undefined ? {} : { to: new Date(to).toISOString() }),
  });

  it('syncs all 2 000 seeded invoices incrementally: pages, then a narrowed range at the 500-record cap', async () => {
    const seen = new Map<string, Metadata>();
    let from = base - 1;
    let pageOffset = 0;
    let truncations = 0;
    for (let guard = 0; guard < 100; guard++) {
      const page = await query(buyer, { subjectType: 'Subject2', dateRange: { ...range(from), restrictToPermanentStorageHwmDate: true } }, { pageOffset, pageSize: 250 });
      expect(page.permanentStorageHwmDate).toBeTruthy();
      for (const inv of page.invoices) seen.set(inv.ksefNumber, inv);
      if (!page.hasMore) break;
      if (page.isTruncated) {
        truncations++;
        from = Date.parse(page.invoices[page.invoices.length - 1].permanentStorageDate);
        pageOffset = 0;
      } else pageOffset++;
    }
    expect(seen.size).toBe(SEEDED);
    expect(truncations).toBeGreaterThanOrEqual(3);
    const sorted = [...seen.values()].map((i) => Date.parse(i.permanentStorageDate));
    expect(sorted).toEqual([...sorted].sort((a, b) => a - b));
  });

  it('reports the shape KSeF does, with amounts and parties from the XML', async () => {
    const page = await query(buyer, { subjectType: 'Subject2', dateRange: range(base - 1, base + 30_000) });
    expect(page.invoices).toHaveLength(1);
    const inv = page.invoices[0];
    expect(inv).toMatchObject({
      invoiceNumber: 'SEED/0',
      seller: { nip: '5265877635' },
      buyer: { identifier: { type: 'Nip', value: BUYER_NIP } },
      netAmount: 100,
      vatAmount: 23,
      grossAmount: 123,
      currency: 'EUR',
      invoiceType: 'Kor',
      formCode: { systemCode: 'FA (3)', schemaVersion: '1-0E', value: 'FA' },
      isSelfInvoicing: false,
      hasAttachment: false,
      invoicingMode: 'Online',
    });
    const downloaded = await t.client.invoice(buyer.accessToken, inv.ksefNumber);
    expect(sha256Base64(downloaded.body)).toBe(inv.invoiceHash);
  });

  it('filters by seller, type, currency, amount, number and KSeF number; sorts descending', async () => {
    const all = { subjectType: 'Subject2', dateRange: range(base - 1, base + 600 * 60_000) }; // invoices 0..599 (capped at 500)
    const bySeller = await query(buyer, { ...all, sellerNip: '7352765225' }, { pageSize: 250 });
    expect(bySeller.invoices.length).toBe(120);
    expect(bySeller.invoices.every((i) => i.seller.nip === '7352765225')).toBe(true);
    const kor = await query(buyer, { ...all, invoiceTypes: ['Kor'] }, { pageSize: 250 });
    expect(kor.invoices).toHaveLength(60);
    const eur = await query(buyer, { ...all, currencyCodes: ['EUR'], amount: { type: 'Netto', from: 150, to: 200 } }, { pageSize: 250 });
    expect(eur.invoices.map((i) => i.netAmount)).toEqual([152, 156, 160, 164, 168, 172, 176, 180, 184, 188, 192, 196, 200]);
    const byNumber = await query(buyer, { ...all, invoiceNumber: 'SEED/42' });
    expect(byNumber.invoices.map((i) => i.invoiceNumber)).toEqual(['SEED/42']);
    const byKsef = await query(buyer, { ...all, ksefNumber: byNumber.invoices[0].ksefNumber });
    expect(byKsef.invoices).toHaveLength(1);
    const desc = await query(buyer, { subjectType: 'Subject2', dateRange: range(base - 1, base + 30 * 60_000) }, { sortOrder: 'Desc', pageSize: 10 });
    expect(desc.invoices[0].invoiceNumber).toBe('SEED/29');
    expect(desc.hasMore).toBe(true);
    const issue = await query(buyer, { subjectType: 'Subject2', dateRange: range(base, base, 'Issue') }, { pageSize: 10 });
    expect(issue.permanentStorageHwmDate).toBeNull();
    expect(issue.invoices.every((i) => i.issueDate === new Date(base).toISOString().slice(0, 10))).toBe(true);
  });

  it('separates subjects: the seller sees its sales, a stranger nothing, a third party (Podmiot3) its share', async () => {
    const xml = invoiceVariant('fa3-vat.xml', { number: uniqueNumber('P3') })
      .toString()
      .replace('</Podmiot2>', `</Podmiot2><Podmiot3><DaneIdentyfikacyjne><NIP>${THIRD_NIP}</NIP><Nazwa>Odbiorca</Nazwa></DaneIdentyfikacyjne><Rola>2</Rola></Podmiot3>`);
    const seeded = await t.admin.post('invoices', { json: { invoices: [{ xml }] } });
    const ksefNumber = seeded.body.invoices[0].ksefNumber as string;
    const third = await t.client.authenticate(openModeToken(THIRD_NIP), { type: 'Nip', value: THIRD_NIP });
    const asThird = await query(third, { subjectType: 'Subject3', dateRange: range(clock.now().getTime() - day) });
    expect(asThird.invoices.map((i) => i.ksefNumber)).toEqual([ksefNumber]);
    expect(asThird.invoices[0].thirdSubjects).toEqual([{ identifier: { type: 'Nip', value: THIRD_NIP }, name: 'Odbiorca', role: 2 }]);
    expect((await t.client.invoice(third.accessToken, ksefNumber)).body.toString()).toBe(xml);

    const asSeller = await query(seller, { subjectType: 'Subject1', dateRange: range(base - 1, base + 10 * 60_000) });
    expect(asSeller.invoices.map((i) => i.invoiceNumber)).toEqual(['SEED/0', 'SEED/5']);
    const stranger = await t.client.authenticate(openModeToken('4444444444'), { type: 'Nip', value: '4444444444' });
    const hidden = await t.raw.get(`invoices/ksef/${ksefNumber}`, { headers: bearer(stranger.accessToken) });
    expect(exceptionCode(hidden)).toBe(21164);
    expect((await query(stranger, { subjectType: 'Subject2', dateRange: range(base - 1) })).invoices).toEqual([]);
  });

  it('validates queries: 3-month span, HWM restriction (21183), KSeF number format', async () => {
    const span = await t.raw.post('invoices/query/metadata', {
      json: { subjectType: 'Subject2', dateRange: range(base, base + 100 * day) },
      headers: bearer(buyer.accessToken),
    });
    expect(exceptionDetails(span)).toEqual(['dateRange.to: the date range must not exceed 3 months']);
    const future = await t.raw.post('invoices/query/metadata', {
      json: { subjectType: 'Subject2', dateRange: { ...range(clock.now().getTime() + 60_000), restrictToPermanentStorageHwmDate: true } },
      headers: bearer(buyer.accessToken),
    });
    expect(exceptionCode(future)).toBe(21183);
    const badNumber = await t.raw.get('invoices/ksef/123', { headers: bearer(buyer.accessToken) });
    expect(exceptionCode(badNumber)).toBe(21405);
    const unknown = await t.raw.get(`invoices/ksef/${BUYER_NIP}-20260101-0000000000AA-00`, { headers: bearer(buyer.accessToken) });
    expect(exceptionCode(unknown)).toBe(21164);
    const pageSize = await t.raw.post('invoices/query/metadata?pageSize=251', { json: { subjectType: 'Subject2', dateRange: range(base) }, headers: bearer(buyer.accessToken) });
    expect(exceptionDetails(pageSize)).toEqual(['pageSize: must be between 10 and 250']);
  });

  it('refuses to seed duplicates or broken XML, naming the item', async () => {
    const dup = await t.admin.post('invoices', { json: { invoices: [{ sellerNip: '5265877635', buyerNip: BUYER_NIP, invoiceNumber: 'SEED/0', kind: 'KOR' }] } });
    expect(dup.statusCode).toBe(400);
    expect(dup.body.error).toMatch(/^invoices\[0\]: duplicate/);
    const broken = await t.admin.post('invoices', { json: { invoices: [{ sellerNip: '5265877635' }, { xml: '<Faktura>' }] } });
    expect(broken.statusCode).toBe(400);
    expect(broken.body.error).toMatch(/^invoices\[1\]: Nieprawidłowy XML/);
  });

  it('exports a package: encrypted zip parts with {ksefNumber}.xml and _metadata.json, truncated at the cap', async () => {
    const keys = { key: randomBytes(32), iv: randomBytes(16) };
    const started = await t.client.call<{ referenceNumber: string }>('POST', 'invoices/exports', {
      bearer: buyer.accessToken,
      json: { encryption: await t.client.encryptionFor(keys), filters: { subjectType: 'Subject2', dateRange: { ...range(base - 1), restrictToPermanentStorageHwmDate: true } } },
      expected: 201,
    });
    let status: Record<string, any>;
    do status = await t.client.call('GET', `invoices/exports/${started.referenceNumber}`, { bearer: buyer.accessToken, expected: 200 });
    while (status.status.code === 100);
    expect(status.status).toEqual({ code: 200, description: 'Eksport faktur zakończony sukcesem' });
    expect(status.package).toMatchObject({ invoiceCount: 300, isTruncated: true });
    expect(status.package.lastPermanentStorageDate).toBeDefined();
    expect(status.package.permanentStorageHwmDate).toBeDefined();

    const parts = [];
    for (const part of status.package.parts) {
      const download = await t.client.download(part.url);
      expect(download.status).toBe(200);
      expect(sha256Base64(download.body)).toBe(part.encryptedPartHash);
      const decipher = createDecipheriv('aes-256-cbc', keys.key, keys.iv);
      parts.push(Buffer.concat([decipher.update(download.body), decipher.final()]));
    }
    const files = unzipSync(Buffer.concat(parts));
    const metadata = JSON.parse(Buffer.from(files['_metadata.json']).toString('utf8')) as { invoices: Metadata[] };
    expect(metadata.invoices).toHaveLength(300);
    expect(metadata.invoices[299].permanentStorageDate).toBe(status.package.lastPermanentStorageDate);
    for (const inv of metadata.invoices.slice(0, 20)) {
      expect(sha256Base64(Buffer.from(files[`${inv.ksefNumber}.xml`]))).toBe(inv.invoiceHash);
    }
    expect(Object.keys(files)).toHaveLength(301);

    const unknown = await t.raw.get('invoices/exports/20260101-EH-0000000000-0000000000-00', { headers: bearer(buyer.accessToken) });
    expect(exceptionCode(unknown)).toBe(21175);
  });

  it('hides an invoice until its permanent storage date: 21165, then the bytes', async () => {
    const delayed = await startTestSandbox({ now: clock.now, permanentStorageDelayMs: 60_000 });
    try {
      const tokens = await delayed.client.authenticate(openModeToken(SELLER_NIP), { type: 'Nip', value: SELLER_NIP });
      const session = await delayed.client.openOnlineSession(tokens.accessToken);
      const xml = invoiceVariant('fa3-vat.xml', { number: uniqueNumber(), buyerNip: OTHER_NIP });
      const ref = await delayed.client.sendInvoice(tokens.accessToken, session.referenceNumber, session.keys, xml);
      const inv = await delayed.client.waitForInvoice(tokens.accessToken, session.referenceNumber, ref);
      expect(inv.acquisitionDate).toBeDefined();
      expect(inv.permanentStorageDate).toBeUndefined();
      const early = await delayed.raw.get(`invoices/ksef/${inv.ksefNumber}`, { headers: bearer(tokens.accessToken) });
      expect(exceptionCode(early)).toBe(21165);
      const before = await delayed.client.queryMetadata(tokens.accessToken, { subjectType: 'Subject1', dateRange: range(clock.now().getTime() - day) });
      expect(before.invoices).toEqual([]);
      clock.advance(60_000);
      expect((await delayed.client.invoice(tokens.accessToken, inv.ksefNumber!)).body.equals(xml)).toBe(true);
      const after = await delayed.client.invoiceStatus(tokens.accessToken, session.referenceNumber, ref);
      expect(Date.parse(after.permanentStorageDate!) - Date.parse(after.acquisitionDate!)).toBe(60_000);
    } finally {
      await delayed.close();
    }
  });
});
