/**
 * PDF output through puppeteer and the system Chromium. One renderer per process is the intended use
 * (`sharedPdfRenderer()`); it keeps one warm browser and a small pool of pages.
 */
import { PdfRenderer, PdfRendererOptions } from './renderer.js';

export type { Lang } from '../render/index.js';
export { PdfRenderer, type PdfRendererOptions, type PdfRendererStats, type HtmlToPdfOptions, type PdfEngineState, type PdfRenderObserver } from './renderer.js';
export { PdfError, PdfTimeoutError, PdfBusyError, PdfUnavailableError, PdfClosedError, PdfBrowserCrashedError } from './errors.js';
export { renderInvoicePdf, renderUpoPdf, invoicePdfCacheKey, upoPdfCacheKey } from './documents.js';
export { resolveExecutablePath } from './chromium.js';

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
