import { LruCache } from '../../src/local/pdf/lru';
import { withPageSetup } from '../../src/local/pdf/page-setup';
import { invoicePdfCacheKey, upoPdfCacheKey } from '../../src/local/pdf';

describe('LruCache', () => {
  const sized = (entries: number, bytes: number) => new LruCache<Buffer>(entries, bytes, (b) => b.length);

  it('evicts the least recently used entry past the entry bound', () => {
    const c = sized(2, 1000);
    c.set('a', Buffer.alloc(1));
    c.set('b', Buffer.alloc(1));
    expect(c.get('a')).toBeDefined(); // a is now the most recent
    c.set('c', Buffer.alloc(1));
    expect(c.get('b')).toBeUndefined();
    expect(c.get('a')).toBeDefined();
    expect(c.get('c')).toBeDefined();
    expect(c.size).toBe(2);
  });

  it('evicts past the byte bound and never keeps an entry larger than the bound', () => {
    const c = sized(100, 10);
    c.set('a', Buffer.alloc(4));
    c.set('b', Buffer.alloc(4));
    c.set('c', Buffer.alloc(4));
    expect(c.get('a')).toBeUndefined();
    expect(c.totalBytes).toBe(8);
    c.set('huge', Buffer.alloc(11));
    expect(c.get('huge')).toBeUndefined();
    expect(c.totalBytes).toBe(8);
  });

  it('replacing a key does not double-count its size; 0 entries disables it', () => {
    const c = sized(10, 100);
    c.set('a', Buffer.alloc(5));
    c.set('a', Buffer.alloc(7));
    expect(c.totalBytes).toBe(7);
    const off = sized(0, 100);
    off.set('a', Buffer.alloc(1));
    expect(off.size).toBe(0);
  });
});

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
