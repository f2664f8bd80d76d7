/**
 * The PDFs a user gets: read back with poppler (pdftotext, pdftoppm) and the QR code decoded from
 * the rasterised first page, so what is asserted is what a person or a scanner would see.
 */
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import QRCode from 'qrcode';
import { PdfRenderer, renderInvoicePdf, renderUpoPdf } from '../../src/local/pdf/index.js';
import { firstPageQr, pdfInfo, pdfText } from '../support/pdf.js';
import { describeWithShared, readSample, sampleNames, sharedPath } from '../support/shared.js';

/** KOD I per FA3.md §4.1, computed here independently of src/local/qr. */
function kodILink(xml: Buffer): string {
  const text = xml.toString('utf8');
  const nip = /<Podmiot1>[\s\S]*?<NIP>(\d{10})<\/NIP>/.exec(text)?.[1];
  const [y, m, d] = (/<P_1>(\d{4}-\d{2}-\d{2})<\/P_1>/.exec(text)?.[1] ?? '').split('-');
  return `https://qr-test.ksef.mf.gov.pl/invoice/${nip}/${d}-${m}-${y}/${createHash('sha256').update(xml).digest('base64url')}`;
}

const qrFor = async (link: string, caption: string) => ({
  kodI: { link, caption, svg: await QRCode.toString(link, { type: 'svg', errorCorrectionLevel: 'M' }) },
});

const SAMPLES: Record<(typeof sampleNames)[number], { number: string; ksef: string; total: string; words: string[] }> = {
  'fa3-vat.xml': {
    number: 'FV/2026/02/0001',
    ksef: '5265877635-20260202-010000F1E2D3-DC',
    total: 'Kwota należności ogółem: 2 385,00 PLN',
    words: ['Usługa wdrożeniowa', 'Dziękujemy za współpracę.', 'Bank Przykładowy S.A.'],
  },
  'fa3-zal.xml': {
    number: 'FZ/2026/03/0001',
    ksef: '5265877635-20260302-01000012A3B4-2C',
    total: 'Kwota zapłaty (zaliczki) dokumentowana fakturą: 3 690,00 PLN',
    words: ['Maszyna pakująca MP-200', 'Zamówienie', 'Wartość zamówienia lub umowy z uwzględnieniem kwoty podatku: 12 300,00 PLN'],
  },
  'fa3-roz.xml': {
    number: 'FV/2026/05/0007',
    ksef: '5265877635-20260504-0100003D4E5F-11',
    total: 'Kwota pozostała do zapłaty: 6 150,00 PLN',
    words: ['Numery wcześniejszych faktur zaliczkowych', '5265877635-20260401-0100002C5D6E-30', 'Maszyna pakująca'],
  },
  'fa3-kor.xml': {
    number: 'KOR/2026/02/0001',
    ksef: '5265877635-20260216-0100004A5B6C-77',
    total: 'Korekta kwoty należności ogółem: -369,00 PLN',
    words: ['Dane faktury korygowanej', 'Usługa wdrożeniowa', 'Korekta skutkująca w dacie wystawienia faktury korygującej'],
  },
};

describeWithShared('invoice PDFs', () => {
  const renderer = new PdfRenderer();
  afterAll(() => renderer.close());

  it('fa3-vat.xml: first page decodes to the real KOD I link of FA3.md §4.1', async () => {
    const link = 'https://qr-test.ksef.mf.gov.pl/invoice/5265877635/02-02-2026/qCezuL3iwedb58monMMu5EfIMsZSkhf03yKG0bMKoB4';
    expect(kodILink(readSample('fa3-vat.xml'))).toBe(link);
    const pdf = await renderInvoicePdf(renderer, readSample('fa3-vat.xml'), {
      ksefNumber: SAMPLES['fa3-vat.xml'].ksef,
      qr: await qrFor(link, SAMPLES['fa3-vat.xml'].ksef),
    });
    expect(await firstPageQr(pdf)).toBe(link);
  });

  it.each(sampleNames)('%s: text, Polish diacritics, page number and KOD I', async (name) => {
    const s = SAMPLES[name];
    const xml = readSample(name);
    const link = kodILink(xml);
    const pdf = await renderInvoicePdf(renderer, xml, { ksefNumber: s.ksef, qr: await qrFor(link, s.ksef) });
    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    const text = await pdfText(pdf);
    for (const expected of [
      s.number,
      s.ksef,
      'Sprzedawca',
      'Nabywca',
      'NIP: 5265877635',
      'Nazwa: Przykładowy Sprzedawca Sp. z o.o.',
      'NIP: 1234563218',
      'Nazwa: Przykładowy Nabywca S.A.',
      'Kraków',
      'Szczegóły',
      'Podsumowanie stawek podatku',
      s.total,
      ...s.words,
      'Sprawdź, czy Twoja faktura znajduje się w KSeF!',
      '1 z 1',
    ]) {
      expect(text).toContain(expected);
    }
    expect(await firstPageQr(pdf)).toBe(link);
  });

  it("lang 'en': English labels and page numbers 'n of N'", async () => {
    const pdf = await renderInvoicePdf(renderer, readSample('fa3-vat.xml'), { lang: 'en', ksefNumber: SAMPLES['fa3-vat.xml'].ksef });
    const text = await pdfText(pdf);
    for (const s of ['Seller', 'Buyer', 'Details', 'Tax rate summary', 'Total amount due: 2 385,00 PLN', '1 of 1']) expect(text).toContain(s);
    for (const s of ['Szczegóły', 'Podsumowanie stawek podatku', 'Kwota należności', '1 z 1']) expect(text).not.toContain(s);
  });

  it('the OFFLINE watermark is in the PDF', async () => {
    const pdf = await renderInvoicePdf(renderer, readSample('fa3-zal.xml'), { watermark: 'OFFLINE' });
    // Rotated text comes back from pdftotext letter by letter.
    expect((await pdfText(pdf)).replace(/ /g, '')).toContain('OFFLINE');
  });

  it('a repeat is served from the cache, as a copy, keyed by bytes + KSeF number + language + variant', async () => {
    const xml = readSample('fa3-roz.xml');
    const first = await renderInvoicePdf(renderer, xml, { ksefNumber: SAMPLES['fa3-roz.xml'].ksef });
    const before = renderer.stats;
    const again = await renderInvoicePdf(renderer, Buffer.from(xml), { ksefNumber: SAMPLES['fa3-roz.xml'].ksef });
    expect(again.equals(first)).toBe(true);
    expect(renderer.stats.renders).toBe(before.renders);
    expect(renderer.stats.cacheHits).toBe(before.cacheHits + 1);
    again.fill(0);
    expect((await renderInvoicePdf(renderer, xml, { ksefNumber: SAMPLES['fa3-roz.xml'].ksef })).equals(first)).toBe(true);

    await renderInvoicePdf(renderer, xml, { ksefNumber: SAMPLES['fa3-roz.xml'].ksef, lang: 'en' });
    await renderInvoicePdf(renderer, xml, { ksefNumber: null });
    await renderInvoicePdf(renderer, xml, { ksefNumber: SAMPLES['fa3-roz.xml'].ksef, watermark: 'OFFLINE' });
    const changed = Buffer.from(xml.toString('utf8').replace('Maszyna', 'Maszyna ')); // other bytes, same data otherwise
    await renderInvoicePdf(renderer, changed, { ksefNumber: SAMPLES['fa3-roz.xml'].ksef });
    expect(renderer.stats.renders).toBe(before.renders + 4);
  });
});

describeWithShared('UPO PDF', () => {
  const renderer = new PdfRenderer({ poolSize: 1 });
  afterAll(() => renderer.close());
  const dir = sharedPath('ksef', 'official', 'faktury', 'upo', 'przyklady', 'v4-3', 'kontekst-nip');

  it('session UPO: A4 landscape, session reference and one row per document', async () => {
    const pdf = await renderUpoPdf(renderer, fs.readFileSync(path.join(dir, 'upo-sesja-kontekst-id-nip.xml')));
    const size = /Page size:\s+([\d.]+) x ([\d.]+) pts/.exec(await pdfInfo(pdf));
    expect(size).not.toBeNull();
    const [width, height] = [Number(size?.[1]), Number(size?.[2])];
    expect(Math.round(width)).toBe(842);
    expect(Math.round(height)).toBe(595);
    const text = await pdfText(pdf);
    for (const s of [
      'Urzędowe poświadczenie odbioru dokumentu elektronicznego KSeF',
      'Ministerstwo Finansów - środowisko testowe (TE)',
      'Numer referencyjny sesji',
      '36950822-93-9D5A28BFDA-47C899773E-5C',
      '5265877635-20250916-010040741B3E-46',
      'FA/SIGTF-3388125147/11/2025',
      '5265877635-20250916-0200A0D6723E-C2',
      'FA/XVQUD-9997622510/04/2027',
      'jli86Kp2Kw7jppX59P8VmjWRcwLTvsPK3DcPEB87mNk=',
      '16.09.2025 11:05:41',
      'Online',
      '1 z 1',
    ]) {
      expect(text).toContain(s);
    }
  });

  it('English UPO', async () => {
    const text = await pdfText(await renderUpoPdf(renderer, fs.readFileSync(path.join(dir, 'upo-faktura-kontekst-id-nip.xml')), { lang: 'en' }));
    expect(text).toContain('Session reference number');
    expect(text).toContain('5265877635-20250916-0200A0D6723E-C2');
    expect(text).toContain('1 of 1');
  });
});
