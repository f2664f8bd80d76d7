/**
 * Page size and page numbers for any HTML we print. Numbers are CSS page-margin boxes
 * (`@bottom-right { content: counter(page) … }`), laid out by Chromium's print step itself:
 * no header/footer template documents to render per page, which is what makes them cheap.
 */
import type { Lang } from '../render/index.js';

const PAGE_OF: Record<Lang, string> = { pl: 'z', en: 'of' };

export interface PageSetup {
  landscape: boolean;
  footerLang: Lang;
}

export function pageSetupCss(opts: PageSetup): string {
  return (
    `@page{size:A4${opts.landscape ? ' landscape' : ''};margin:10mm 12mm 14mm 12mm;` +
    `@bottom-right{content:counter(page) " ${PAGE_OF[opts.footerLang]} " counter(pages);` +
    `font-family:"Liberation Sans","DejaVu Sans",sans-serif;font-size:8pt;color:#343A40;word-spacing:1pt}}`
  );
}

/**
 * Puts our @page rule first in the document, so the document's own @page rules (margins) still win
 * where they are set, while size and page numbers are always there.
 */
export function withPageSetup(html: string, opts: PageSetup): string {
  const style = `<style>${pageSetupCss(opts)}</style>`;
  const anchor = /<head(\s[^>]*)?>/i.exec(html) ?? /<html(\s[^>]*)?>/i.exec(html) ?? /<!DOCTYPE[^>]*>/i.exec(html);
  if (!anchor) return style + html;
  const at = anchor.index + anchor[0].length;
  return html.slice(0, at) + style + html.slice(at);
}
