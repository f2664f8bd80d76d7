import { invoicePdfCacheKey, PdfRenderer, upoPdfCacheKey } from '../../src/local/pdf/index.js';
import { withPageSetup } from '../../src/local/pdf/page-setup.js';

describe('page setup', () => {
  it('puts size and page numbers first in <head>, so the document can still override margins', () => {
    const out = withPageSetup('<!DOCTYPE html><html><head><style>@page{margin:5mm}</style></head><body>x</body></html>', {
      landscape: false,
      footerLang: 'pl',
    });
    expect(out).toMatch(/^<!DOCTYPE html><html><head><style>@page\{size:A4;.*counter\(page\) " z " counter\(pages\).*<\/style><style>@page\{margin:5mm\}/);
  });

  it('landscape and English page numbers; documents without <head>', () => {
    expect(withPageSetup('<html><body>x</body></html>', { landscape: true, footerLang: 'en' })).toMatch(
      /^<html><style>@page\{size:A4 landscape;.*counter\(page\) " of " counter\(pages\)/,
    );
    expect(withPageSetup('<p>fragment</p>', { landscape: false, footerLang: 'pl' })).toMatch(/^<style>@page\{size:A4;.*<\/style><p>fragment<\/p>$/);
  });
});

describe('cache keys', () => {
  const xml = Buffer.from('<Faktura/>');
  it('differ by bytes, KSeF number, language and variant (QR, watermark); equal otherwise', () => {
    const base = invoicePdfCacheKey(xml, { ksefNumber: 'K1' });
    expect(invoicePdfCacheKey(Buffer.from('<Faktura/>'), { ksefNumber: 'K1', lang: 'pl' })).toBe(base);
    const others = [
      invoicePdfCacheKey(Buffer.from('<Faktura />'), { ksefNumber: 'K1' }),
      invoicePdfCacheKey(xml, { ksefNumber: 'K2' }),
      invoicePdfCacheKey(xml, {}),
      invoicePdfCacheKey(xml, { ksefNumber: 'K1', lang: 'en' }),
      invoicePdfCacheKey(xml, { ksefNumber: 'K1', watermark: 'OFFLINE' }),
      invoicePdfCacheKey(xml, { ksefNumber: 'K1', qr: { kodI: { link: 'l', caption: 'c', svg: '<svg/>' } } }),
      invoicePdfCacheKey(xml, { ksefNumber: 'K1', qr: { kodI: { link: 'l2', caption: 'c', svg: '<svg/>' } } }),
    ];
    expect(new Set([base, ...others]).size).toBe(others.length + 1);
    expect(upoPdfCacheKey(xml, 'pl')).not.toBe(upoPdfCacheKey(xml, 'en'));
  });
});

describe('the PDF cache of a real renderer', () => {
  const doc = (marker: string) => `<!DOCTYPE html><html><head><meta charset="utf-8"></head><body><h1>${marker}</h1></body></html>`;

  it('keeps the most recently used PDFs within its entry and byte bounds; 0 entries disables it', async () => {
    const renderer = new PdfRenderer({ poolSize: 1, cacheEntries: 2 });
    try {
      const a = await renderer.htmlToPdf(doc('A'), { cacheKey: 'a' });
      await renderer.htmlToPdf(doc('B'), { cacheKey: 'b' });
      expect(renderer.cachedPdf('a')).toEqual(a); // a is now the most recent
      await renderer.htmlToPdf(doc('C'), { cacheKey: 'c' });
      expect(renderer.cachedPdf('b')).toBeUndefined();
      expect(renderer.stats).toMatchObject({ cacheEntries: 2, renders: 3 });
      expect(renderer.stats.cacheBytes).toBe(a.length + renderer.cachedPdf('c')!.length);
      // The cache hands out copies: changing one changes nothing cached.
      renderer.cachedPdf('a')!.fill(0);
      expect(renderer.cachedPdf('a')).toEqual(a);
    } finally {
      await renderer.close();
    }
    const tiny = new PdfRenderer({ poolSize: 1, cacheMaxBytes: 10 });
    const off = new PdfRenderer({ poolSize: 1, cacheEntries: 0 });
    try {
      await tiny.htmlToPdf(doc('A'), { cacheKey: 'a' });
      expect(tiny.cachedPdf('a')).toBeUndefined(); // larger than the byte bound: never kept
      await off.htmlToPdf(doc('A'), { cacheKey: 'a' });
      expect(off.cachedPdf('a')).toBeUndefined();
      expect(off.stats.cacheEntries).toBe(0);
    } finally {
      await tiny.close();
      await off.close();
    }
  });
});
