/**
 * Visualisation of KSeF documents as HTML: the FA(3) invoice laid out like the Ministry of Finance's
 * official visualisation (FA3.md §5), and the UPO receipt (§5.3). Pure functions of the XML bytes and
 * options; the PDF is made from this HTML by src/local/pdf.
 */
import { Lang, isLang, labelsFor } from './i18n.js';
import { invoiceHtml } from './invoice-html.js';
import { parseInvoice } from './invoice-model.js';
import { RenderInputError } from './xml.js';
import { parseUpo, upoHtml } from './upo.js';

export type { Lang } from './i18n.js';
export { RenderInputError } from './xml.js';
export { parseInvoice, type InvoiceView } from './invoice-model.js';
export { parseUpo, type UpoView } from './upo.js';

export interface RenderQr {
  link: string;
  caption: string;
  /** SVG markup of the code, made by the caller (src/local/qr); inserted verbatim, so it must be trusted. */
  svg: string;
}

export interface RenderInvoiceOptions {
  /** Printed in the header ("Numer KSEF:") when known. */
  ksefNumber?: string | null;
  lang?: Lang;
  qr?: { kodI?: RenderQr; kodII?: RenderQr };
  /** Diagonal text over every page, e.g. 'OFFLINE' for an invoice not yet in KSeF. */
  watermark?: string;
}

function checkLang(lang: unknown): Lang {
  if (lang === undefined) return 'pl';
  if (!isLang(lang)) throw new RenderInputError(`lang must be 'pl' or 'en', got ${JSON.stringify(lang)}`);
  return lang;
}

/** The official FA(3) visualisation as a self-contained HTML page (no external resources). */
export function renderInvoiceHtml(xml: Buffer, options: RenderInvoiceOptions = {}): string {
  const lang = checkLang(options.lang);
  return invoiceHtml(parseInvoice(xml), { ...options, lang }, labelsFor(lang));
}

/** The UPO v4-3 receipt as a self-contained HTML page, A4 landscape. */
export function renderUpoHtml(upoXml: Buffer, options: { lang?: Lang } = {}): string {
  const lang = checkLang(options.lang);
  return upoHtml(parseUpo(upoXml), lang, labelsFor(lang));
}
