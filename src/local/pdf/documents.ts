/**
 * KSeF documents as PDF: the invoice visualisation (A4 portrait) and the UPO (A4 landscape), cached
 * by what makes the output unique. The cache is checked before any HTML is built, so a repeat costs
 * one SHA-256 of the XML and a map lookup.
 */
import { createHash } from 'node:crypto';
import { Lang, RenderInvoiceOptions, renderInvoiceHtml, renderUpoHtml } from '../render/index.js';
import { PdfRenderer } from './renderer.js';

const sha256 = (data: Buffer | string): string => createHash('sha256').update(data).digest('base64url');

/**
 * sha256(XML bytes) + KSeF number + language + variant; the variant covers everything else that
 * changes the page (QR links, captions and images, watermark), hashed so keys stay short.
 */
export function invoicePdfCacheKey(xml: Buffer, options: RenderInvoiceOptions = {}): string {
  const variant = sha256(JSON.stringify({ qr: options.qr ?? null, watermark: options.watermark ?? null }));
  return `fa3:${sha256(xml)}:${options.ksefNumber ?? '-'}:${options.lang ?? 'pl'}:${variant}`;
}

export function upoPdfCacheKey(upoXml: Buffer, lang: Lang = 'pl'): string {
  return `upo:${sha256(upoXml)}:${lang}`;
}

/** The invoice's official visualisation as PDF; throws RenderInputError for a document that is not FA(3). */
export async function renderInvoicePdf(renderer: PdfRenderer, xml: Buffer, options: RenderInvoiceOptions = {}): Promise<Buffer> {
  const cacheKey = invoicePdfCacheKey(xml, options);
  const cached = renderer.cachedPdf(cacheKey);
  if (cached) return cached;
  const html = renderInvoiceHtml(xml, options);
  return renderer.htmlToPdf(html, { cacheKey, footerLang: options.lang ?? 'pl' });
}

/** The UPO receipt as PDF, A4 landscape. */
export async function renderUpoPdf(renderer: PdfRenderer, upoXml: Buffer, options: { lang?: Lang } = {}): Promise<Buffer> {
  const lang = options.lang ?? 'pl';
  const cacheKey = upoPdfCacheKey(upoXml, lang);
  const cached = renderer.cachedPdf(cacheKey);
  if (cached) return cached;
  const html = renderUpoHtml(upoXml, { lang });
  return renderer.htmlToPdf(html, { cacheKey, landscape: true, footerLang: lang });
}
