/**
 * LocalDocuments beyond what POST /invoices/render exercises: the invoice document of the
 * GET /invoices/{environment}/{ksefNumber} route, the UPO PDF, the validation environment and file names.
 */
import fs from 'node:fs';
import { LocalDocuments, fileBaseName } from '../../src/local/documents.js';
import { PdfRenderer } from '../../src/local/pdf/index.js';
import { RenderInputError } from '../../src/local/render/index.js';
import { decodePngQr, firstPageQr, pdfText } from '../support/pdf.js';
import { describeWithShared, readSample, sharedPath } from '../support/shared.js';

const KSEF_NUMBER = '5265877635-20260202-010000F1E2D3-DC';
const KOD_I_DEMO = 'https://qr-demo.ksef.mf.gov.pl/invoice/5265877635/02-02-2026/qCezuL3iwedb58monMMu5EfIMsZSkhf03yKG0bMKoB4';

describeWithShared('LocalDocuments', () => {
  const documents = new LocalDocuments(new PdfRenderer({ poolSize: 1 }));
  afterAll(() => documents.close());

  it('invoiceDocument pdf: captioned and named by the KSeF number, KOD I of the route environment', async () => {
    const doc = await documents.invoiceDocument(readSample('fa3-vat.xml'), KSEF_NUMBER, 'demo', 'pdf', 'en');
    expect(doc).toMatchObject({ docType: 'pdf', contentType: 'application/pdf', fileName: `${KSEF_NUMBER}.pdf`, qrVerificationUrl: KOD_I_DEMO });
    const text = await pdfText(doc.content);
    expect(text.split(KSEF_NUMBER).length - 1).toBeGreaterThanOrEqual(2); // header and caption
    expect(text).toContain('Seller');
    expect(await firstPageQr(doc.content)).toBe(KOD_I_DEMO);
  });

  it('invoiceDocument qr: the PNG of the same link', async () => {
    const doc = await documents.invoiceDocument(readSample('fa3-vat.xml'), KSEF_NUMBER, 'demo', 'qr');
    expect(doc).toMatchObject({ docType: 'qr', contentType: 'image/png', fileName: `${KSEF_NUMBER}-qr.png`, qrVerificationUrl: KOD_I_DEMO });
    expect(decodePngQr(doc.content)).toBe(KOD_I_DEMO);
  });

  it('upoPdf: the receipt as PDF; something else is a RenderInputError', async () => {
    const upo = fs.readFileSync(sharedPath('ksef', 'official', 'faktury', 'upo', 'przyklady', 'v4-3', 'kontekst-nip', 'upo-faktura-kontekst-id-nip.xml'));
    const text = await pdfText(await documents.upoPdf(upo));
    expect(text).toContain('Urzędowe poświadczenie odbioru dokumentu elektronicznego KSeF');
    expect(text).toContain('5265877635-20250916-0200A0D6723E-C2');
    await expect(documents.upoPdf(readSample('fa3-vat.xml'))).rejects.toThrow(RenderInputError);
  });

  it('validate: a bad NIP checksum is an error for prod (the default) and only a warning for test', async () => {
    const xml = Buffer.from(readSample('fa3-vat.xml').toString('utf8').replace('<NIP>5265877635</NIP>', '<NIP>5265877636</NIP>'));
    const prod = await documents.validate(xml);
    expect(prod.valid).toBe(false);
    expect(prod.errors.map((e) => e.code)).toEqual(['N1']);
    const test = await documents.validate(xml, 'test');
    expect(test.valid).toBe(true);
    expect(test.warnings.map((w) => w.code)).toContain('N1');
  });
});

describe('fileBaseName', () => {
  it.each([
    ['FV/2026/02/0001', 'FV_2026_02_0001'],
    ['Faktura nr 7 — łódzka zaliczka', 'Faktura_nr_7_lodzka_zaliczka'],
    ['../../etc/passwd', 'etc_passwd'],
    ['  ', 'invoice'],
    [undefined, 'invoice'],
    ['A'.repeat(300), 'A'.repeat(100)],
  ])('%j → %s', (value, expected) => {
    expect(fileBaseName(value)).toBe(expected);
  });
});
