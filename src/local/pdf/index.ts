/**
 * PDF output through puppeteer and the system Chromium. One renderer per process is the intended use
 * (`sharedPdfRenderer()`); it keeps one warm browser and a small pool of pages.
 */
import { PdfRenderer, PdfRendererOptions } from './renderer';

export type { Lang } from '../render';
export { PdfRenderer, type PdfRendererOptions, type PdfRendererStats, type HtmlToPdfOptions, type PdfEngineState, type PdfRenderObserver } from './renderer';
export { PdfError, PdfTimeoutError, PdfBusyError, PdfUnavailableError, PdfClosedError, PdfBrowserCrashedError } from './errors';
export { renderInvoicePdf, renderUpoPdf, invoicePdfCacheKey, upoPdfCacheKey } from './documents';
export { resolveExecutablePath } from './chromium';

let shared: PdfRenderer | undefined;

/** The process-wide renderer, created on first use with these options (later options are ignored). */
export function sharedPdfRenderer(options?: PdfRendererOptions): PdfRenderer {
  shared ??= new PdfRenderer(options);
  return shared;
}

/** Closes the process-wide renderer (graceful shutdown); the next sharedPdfRenderer() makes a new one. */
export async function closeSharedPdfRenderer(): Promise<void> {
  const r = shared;
  shared = undefined;
  await r?.close();
}
