/** Errors of the PDF layer; the HTTP layer maps them (timeout/busy/unavailable -> 503, closed -> 503). */
export class PdfError extends Error {
  override name = 'PdfError';
}

/** A render did not finish within `renderTimeoutMs`. */
export class PdfTimeoutError extends PdfError {
  override name = 'PdfTimeoutError';
}

/** Too many renders already waiting (`maxQueue`): shed load instead of queueing without bound. */
export class PdfBusyError extends PdfError {
  override name = 'PdfBusyError';
}

/** Chromium is missing or would not start. */
export class PdfUnavailableError extends PdfError {
  override name = 'PdfUnavailableError';
}

/** The renderer was closed. */
export class PdfClosedError extends PdfError {
  override name = 'PdfClosedError';
}

/** Chromium (or the page's renderer process) died during a render; retried once on a fresh browser. */
export class PdfBrowserCrashedError extends PdfError {
  override name = 'PdfBrowserCrashedError';
}
