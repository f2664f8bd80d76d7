/**
 * POST /invoices/validate and POST /invoices/render over real HTTP. What is asserted is what a client
 * gets: the decoded bytes read back with poppler (pdftotext, pdftoppm), QR codes decoded from pixels,
 * and the KOD I link recomputed here from FA3.md §4.1, independently of src/local/qr.
 */
import { createHash } from 'node:crypto';
import { LocalDocuments } from '../../src/local/documents.js';
import { PdfRenderer } from '../../src/local/pdf/index.js';
import { qrPng } from '../../src/local/qr/index.js';
import { decodePngQr, firstPageQr, pdfText } from '../support/pdf.js';
import { adminAuth, startTestServer, type TestServer } from '../support/server.js';
import { describeWithShared, readSample, sampleNames } from '../support/shared.js';

let t: TestServer;
beforeAll(async () => {
  t = await startTestServer();
});
afterAll(() => t.close());
afterEach(() => expect(t.conformance.violations).toEqual([]));

const post = (route: string, body: unknown) => t.http.post(route).set('Authorization', adminAuth).send(body as object);
const b64 = (xml: Buffer | string) => Buffer.from(xml).toString('base64');
const content = (res: { body: { content: string } }) => Buffer.from(res.body.content, 'base64');

const HOSTS = { test: 'qr-test.ksef.mf.gov.pl', demo: 'qr-demo.ksef.mf.gov.pl', prod: 'qr.ksef.mf.gov.pl' };

/** KOD I per FA3.md §4.1: seller NIP, P_1 as DD-MM-YYYY, Base64URL SHA-256 of the exact bytes. */
function kodILink(xml: Buffer, environment: keyof typeof HOSTS = 'test'): string {
  const text = xml.toString('utf8');
  const nip = /<Podmiot1>[\s\S]*?<NIP>(\d{10})<\/NIP>/.exec(text)?.[1];
  const [y, m, d] = (/<P_1>(\d{4}-\d{2}-\d{2})<\/P_1>/.exec(text)?.[1] ?? '').split('-');
  return `https://${HOSTS[environment]}/invoice/${nip}/${d}-${m}-${y}/${createHash('sha256').update(xml).digest('base64url')}`;
}

const SAMPLES = {
  'fa3-vat.xml': { invoiceNumber: 'FV/2026/02/0001', type: 'VAT', issueDate: '2026-02-02', net: '2000.00', vat: '385.00', gross: '2385.00', printed: '2 385,00 PLN', fileName: 'FV_2026_02_0001.pdf' },
  'fa3-zal.xml': { invoiceNumber: 'FZ/2026/03/0001', type: 'ZAL', issueDate: '2026-03-02', net: '3000.00', vat: '690.00', gross: '3690.00', printed: '3 690,00 PLN', fileName: 'FZ_2026_03_0001.pdf' },
  'fa3-roz.xml': { invoiceNumber: 'FV/2026/05/0007', type: 'ROZ', issueDate: '2026-05-04', net: '5000.00', vat: '1150.00', gross: '6150.00', printed: '6 150,00 PLN', fileName: 'FV_2026_05_0007.pdf' },
  'fa3-kor.xml': { invoiceNumber: 'KOR/2026/02/0001', type: 'KOR', issueDate: '2026-02-16', net: '-300.00', vat: '-69.00', gross: '-369.00', printed: '-369,00 PLN', fileName: 'KOR_2026_02_0001.pdf' },
} as const;

/** A checksum-valid KSeF number of fa3-vat.xml (FA3.md §3). */
const KSEF_NUMBER = '5265877635-20260202-010000F1E2D3-DC';

describe('authentication', () => {
  test.each(['/invoices/validate', '/invoices/render'])('POST %s without credentials: 401 with a Basic challenge', async (route) => {
    const res = await t.http.post(route).send({ invoiceXml: b64('<x/>'), docType: 'qr' });
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(/^Basic /);
    expect(res.body.error.code).toBe('unauthorized');
  });
});

describe('a body that is not an invoice in Base64: 400 naming body.invoiceXml', () => {
  const notBase64 = 'must be Base64 (standard alphabet, with padding)';
  test.each([
    ['not Base64', 'this is *not* base64!', notBase64],
    ['Base64 without padding', b64('<Faktura/>').replace(/=+$/, ''), notBase64],
    ['Base64 wrapped in lines (base64 without -w0)', b64('<Faktura/>').replace(/(.{4})/, '$1\n'), notBase64],
    // The empty string is valid Base64 (of nothing), so the contract lets it through: the handler refuses it.
    ['empty', '', 'must not be empty'],
  ])('%s', async (_label, invoiceXml, message) => {
    for (const [route, extra] of [['/invoices/validate', {}], ['/invoices/render', { docType: 'pdf' }]] as const) {
      const res = await post(route, { invoiceXml, ...extra });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
      expect(res.body.error.details).toEqual([{ path: 'body.invoiceXml', message }]);
      expect(res.body.error.message).toContain('body.invoiceXml');
    }
  });

  test('missing, or sent with an unknown field', async () => {
    const missing = await post('/invoices/validate', {});
    expect(missing.status).toBe(400);
    expect(missing.body.error.details).toEqual([{ path: 'body.invoiceXml', message: 'is required' }]);
    const extra = await post('/invoices/validate', { invoiceXml: b64('<x/>'), environment: 'prod' });
    expect(extra.status).toBe(400);
    expect(extra.body.error.details).toEqual([{ path: 'body.environment', message: 'is not an allowed field' }]);
  });
});

describeWithShared('POST /invoices/validate', () => {
  test.each(sampleNames)('%s: valid, with its summary (amounts as strings)', async (name) => {
    const s = SAMPLES[name];
    const res = await post('/invoices/validate', { invoiceXml: b64(readSample(name)) });
    expect(res.status).toBe(200);
    expect(res.body.valid).toBe(true);
    expect(res.body.errors).toEqual([]);
    expect(res.body.summary).toEqual({
      invoiceNumber: s.invoiceNumber,
      type: s.type,
      issueDate: s.issueDate,
      sellerNip: '5265877635',
      buyerNip: '1234563218',
      netAmount: s.net,
      vatAmount: s.vat,
      grossAmount: s.gross,
      currency: 'PLN',
      // part A's names for the same amounts stay for existing clients
      net: s.net,
      vat: s.vat,
      gross: s.gross,
    });
  });

  const vat = () => readSample('fa3-vat.xml').toString('utf8');
  test.each([
    [
      'a seller NIP with a bad checksum (an error: validation targets prod)',
      () => vat().replace('<NIP>5265877635</NIP>', '<NIP>5265877636</NIP>'),
      { path: '/Faktura/Podmiot1/DaneIdentyfikacyjne/NIP', code: 'N1' },
      true,
    ],
    ['totals that do not add up', () => vat().replace('<P_15>2385.00</P_15>', '<P_15>2386.00</P_15>'), { path: '/Faktura/Fa/P_15', code: 'T1' }, true],
    [
      'the FA(2) namespace',
      () => vat().replace('http://crd.gov.pl/wzor/2025/06/25/13775/', 'http://crd.gov.pl/wzor/2023/06/29/12648/'),
      { path: '/Faktura', code: 'NAMESPACE' },
      false,
    ],
    ['not XML at all', () => 'Faktura VAT nr 1, razem 100 zł', { path: '/', code: 'XML' }, false],
  ])('%s: 200, valid false, the problem located', async (_label, xml, expected, summarised) => {
    const res = await post('/invoices/validate', { invoiceXml: b64(xml()) });
    expect(res.status).toBe(200);
    expect(res.body.valid).toBe(false);
    expect(res.body.errors).toEqual([{ ...expected, message: expect.any(String) }]);
    // A document that is FA(3) in structure still gets its summary; one that is not, none.
    if (summarised) expect(res.body.summary).toMatchObject({ invoiceNumber: 'FV/2026/02/0001' });
    else expect(res.body.summary).toBeNull();
  });
});

describeWithShared('POST /invoices/render', () => {
  test.each(sampleNames)('%s as PDF: the invoice in text, KOD I on page 1, captioned OFFLINE', async (name) => {
    const s = SAMPLES[name];
    const xml = readSample(name);
    const res = await post('/invoices/render', { invoiceXml: b64(xml), docType: 'pdf' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ docType: 'pdf', contentType: 'application/pdf', fileName: s.fileName, qrVerificationUrl: kodILink(xml) });
    const pdf = content(res);
    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    const text = await pdfText(pdf);
    for (const expected of [
      s.invoiceNumber,
      'NIP: 5265877635',
      'NIP: 1234563218',
      s.printed,
      'Nazwa: Przykładowy Sprzedawca Sp. z o.o.',
      'Sprawdź, czy Twoja faktura znajduje się w KSeF!',
      'OFFLINE',
    ]) {
      expect(text).toContain(expected);
    }
    expect(await firstPageQr(pdf)).toBe(kodILink(xml));
  });

  test('with a KSeF number and environment prod: the number in the header and under the code, the prod host, the file named by it', async () => {
    const xml = readSample('fa3-vat.xml');
    const res = await post('/invoices/render', { invoiceXml: b64(xml), docType: 'pdf', environment: 'prod', ksefNumber: KSEF_NUMBER });
    expect(res.status).toBe(200);
    expect(res.body.fileName).toBe(`${KSEF_NUMBER}.pdf`);
    expect(res.body.qrVerificationUrl).toBe(kodILink(xml, 'prod'));
    const text = await pdfText(content(res));
    expect(text.split(KSEF_NUMBER).length - 1).toBeGreaterThanOrEqual(2);
    expect(text).not.toContain('OFFLINE');
    expect(await firstPageQr(content(res))).toBe(kodILink(xml, 'prod'));
  });

  test('HTML: Polish by default, English with lang=en; the page carries the link', async () => {
    const xml = readSample('fa3-vat.xml');
    /** What a browser shows: tags dropped, entities and whitespace as a reader sees them. */
    const visibleText = (res: { body: { content: string } }) =>
      content(res).toString('utf8').replace(/<style>[\s\S]*?<\/style>/, '').replace(/<[^>]+>/g, ' ').replace(/&amp;/g, '&').replace(/[\s\u00a0]+/g, ' ');

    const pl = await post('/invoices/render', { invoiceXml: b64(xml), docType: 'html' });
    expect(pl.status).toBe(200);
    expect(pl.body).toMatchObject({ docType: 'html', contentType: 'text/html; charset=utf-8', fileName: 'FV_2026_02_0001.html', qrVerificationUrl: kodILink(xml) });
    for (const label of ['Szczegóły', 'Podsumowanie stawek podatku', 'Kwota należności ogółem: 2 385,00 PLN']) expect(visibleText(pl)).toContain(label);

    const en = await post('/invoices/render', { invoiceXml: b64(xml), docType: 'html', lang: 'en' });
    expect(en.status).toBe(200);
    const text = visibleText(en);
    for (const label of ['Seller', 'Buyer', 'Details', 'Tax rate summary', 'Total amount due: 2 385,00 PLN']) expect(text).toContain(label);
    for (const label of ['Szczegóły', 'Podsumowanie stawek podatku', 'Kwota należności']) expect(text).not.toContain(label);
    expect(text).toContain(kodILink(xml));
    expect(text).toContain('Przykładowy Nabywca S.A.');
  });

  test('QR: a PNG decoding to the KOD I link, captioned OFFLINE or with the KSeF number', async () => {
    const xml = readSample('fa3-vat.xml');
    const link = kodILink(xml, 'demo');
    const offline = await post('/invoices/render', { invoiceXml: b64(xml), docType: 'qr', environment: 'demo' });
    expect(offline.status).toBe(200);
    expect(offline.body).toMatchObject({ docType: 'qr', contentType: 'image/png', fileName: 'FV_2026_02_0001-qr.png', qrVerificationUrl: link });
    expect(decodePngQr(content(offline))).toBe(link);
    expect(content(offline).equals(await qrPng(link, 'OFFLINE'))).toBe(true);

    const numbered = await post('/invoices/render', { invoiceXml: b64(xml), docType: 'qr', environment: 'demo', ksefNumber: KSEF_NUMBER });
    expect(numbered.status).toBe(200);
    expect(numbered.body.fileName).toBe(`${KSEF_NUMBER}-qr.png`);
    expect(decodePngQr(content(numbered))).toBe(link);
    // Same code, other caption: the pixels under the code are the KSeF number's glyphs.
    expect(content(numbered).equals(await qrPng(link, KSEF_NUMBER))).toBe(true);
    expect(content(numbered).equals(content(offline))).toBe(false);
  });

  test.each([
    ['not XML', () => Buffer.from('hello'), /not well-formed XML/],
    ['an FA(2) invoice', () => Buffer.from(readSample('fa3-vat.xml').toString('utf8').replace('2025/06/25/13775', '2023/06/29/12648')), /not FA\(3\)/],
    ['no seller NIP (nothing to build KOD I from)', () => Buffer.from(readSample('fa3-vat.xml').toString('utf8').replace('<NIP>5265877635</NIP>', '')), /KOD I.*sellerNip/],
  ])('%s: 400 naming body.invoiceXml', async (_label, xml, why) => {
    for (const docType of ['pdf', 'html', 'qr']) {
      const res = await post('/invoices/render', { invoiceXml: b64(xml()), docType });
      expect(res.status).toBe(400);
      expect(res.body.error.code).toBe('validation_failed');
      expect(res.body.error.details).toEqual([{ path: 'body.invoiceXml', message: expect.stringMatching(why) }]);
    }
  });

  test('a KSeF number with a wrong checksum, an unknown docType: 400 naming the field', async () => {
    const xml = b64(readSample('fa3-vat.xml'));
    const crc = await post('/invoices/render', { invoiceXml: xml, docType: 'qr', ksefNumber: KSEF_NUMBER.replace(/DC$/, 'DD') });
    expect(crc.status).toBe(400);
    expect(crc.body.error.details).toEqual([{ path: 'body.ksefNumber', message: expect.stringMatching(/checksum/i) }]);
    const docType = await post('/invoices/render', { invoiceXml: xml, docType: 'docx' });
    expect(docType.status).toBe(400);
    expect(docType.body.error.details).toEqual([{ path: 'body.docType', message: 'must be one of pdf, html, qr (got "docx")' }]);
  });

  describe('the PDF engine in trouble: 503, and HTML and QR still work', () => {
    let working: LocalDocuments;
    beforeEach(() => {
      working = t.server.services.documents;
    });
    afterEach(async () => {
      const replaced = t.server.services.documents;
      t.server.services.documents = working;
      await replaced.close();
    });

    test('Chromium missing: pdf_unavailable', async () => {
      t.server.services.documents = new LocalDocuments(new PdfRenderer({ executablePath: '/nonexistent/chromium' }));
      const xml = b64(readSample('fa3-vat.xml'));
      const res = await post('/invoices/render', { invoiceXml: xml, docType: 'pdf' });
      expect(res.status).toBe(503);
      expect(res.body.error.code).toBe('pdf_unavailable');
      expect(res.body.error.message).not.toContain('/nonexistent'); // the path is for the log, not the client
      expect((await post('/invoices/render', { invoiceXml: xml, docType: 'html' })).status).toBe(200);
      expect((await post('/invoices/render', { invoiceXml: xml, docType: 'qr' })).status).toBe(200);
    });

    test('all pages taken and no queue: pdf_busy with Retry-After', async () => {
      const renderer = new PdfRenderer({ poolSize: 1, maxQueue: 0 });
      t.server.services.documents = new LocalDocuments(renderer);
      await renderer.warmUp();
      // A document of hundreds of pages holds the only page for seconds: the request below must find it taken.
      const holding = renderer.htmlToPdf(`<table>${'<tr><td>wiersz</td></tr>'.repeat(4_000)}</table>`);
      await new Promise((r) => setTimeout(r, 50));
      const busy = await post('/invoices/render', { invoiceXml: b64(readSample('fa3-vat.xml')), docType: 'pdf' });
      expect(busy.status).toBe(503);
      expect(busy.body.error.code).toBe('pdf_busy');
      expect(busy.headers['retry-after']).toBe('5');
      await holding;
      expect((await post('/invoices/render', { invoiceXml: b64(readSample('fa3-vat.xml')), docType: 'pdf' })).status).toBe(200);
    });
  });
});
