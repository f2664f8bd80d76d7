import type { ErrorRequestHandler } from 'express';
import type { components } from '../../generated/api.js';
import {
  KsefAuthenticationError,
  KsefDuplicateInvoiceError,
  KsefError,
  KsefInvoiceRejectedError,
  KsefNotConfiguredError,
  KsefOfflineModeError,
  KsefOutageSimulatedError,
  KsefPermissionDeniedError,
  KsefRateLimitedError,
  KsefRejectedError,
  KsefServerError,
  KsefTimeoutError,
  KsefUnavailableError,
  NOT_FOUND_CODES,
} from '../ksef-proxy/errors.js';
import { PdfBusyError, PdfError, PdfTimeoutError } from '../local/pdf/errors.js';
import type { Logger } from '../logger.js';

export type ErrorBody = components['schemas']['ErrorBody'];
export type ErrorDetail = components['schemas']['ErrorDetail'];

/** An error meant for the client: status, a stable code, a message saying what to do next. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: ErrorDetail[],
    readonly extra?: { ksef?: ErrorBody['ksef']; ksefPermissions?: ErrorBody['ksefPermissions']; headers?: Record<string, string> },
  ) {
    super(message);
  }

  toBody(): { error: ErrorBody } {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.details?.length ? { details: this.details } : {}),
        ...(this.extra?.ksef ? { ksef: this.extra.ksef } : {}),
        ...(this.extra?.ksefPermissions ? { ksefPermissions: this.extra.ksefPermissions } : {}),
      },
    };
  }
}

export const badRequest = (message: string, details?: ErrorDetail[]) => new ApiError(400, 'validation_failed', message, details);
export const notFound = (message: string) => new ApiError(404, 'not_found', message);
export const conflict = (message: string) => new ApiError(409, 'conflict', message);
export const forbidden = (message: string) => new ApiError(403, 'forbidden', message);

/** KSeF's failures in our terms: who is at fault decides the status, KSeF's own code travels in `ksef`. */
function fromKsef(err: KsefError): ApiError {
  if (err instanceof KsefOutageSimulatedError) return new ApiError(503, 'ksef_unavailable', err.message);
  if (err instanceof KsefOfflineModeError) return new ApiError(409, 'offline_not_possible', err.message);
  if (err instanceof KsefUnavailableError) return new ApiError(503, 'ksef_unavailable', `${err.message} Try again later.`);
  if (err instanceof KsefTimeoutError) return new ApiError(504, 'ksef_timeout', `${err.message} Try again later.`);
  if (err instanceof KsefServerError) return new ApiError(502, 'ksef_error', `${err.message} KSeF failed even after retries; try again later.`);
  if (err instanceof KsefRateLimitedError) {
    return new ApiError(429, 'ksef_rate_limited', err.message, undefined, { headers: { 'Retry-After': String(err.retryAfterSeconds) } });
  }
  if (err instanceof KsefNotConfiguredError) return new ApiError(409, 'ksef_not_configured', err.message);
  if (err instanceof KsefDuplicateInvoiceError) return new ApiError(409, 'ksef_duplicate', err.message, undefined, { ksef: err.status });
  if (err instanceof KsefInvoiceRejectedError) {
    return new ApiError(422, 'ksef_rejected', `${err.message} Fix the invoice and send it again.`, undefined, { ksef: err.status });
  }
  if (err instanceof KsefAuthenticationError) return new ApiError(422, 'ksef_authentication_failed', err.message, undefined, { ksef: err.status });
  if (err instanceof KsefPermissionDeniedError) {
    return new ApiError(403, 'ksef_permission_missing', err.message, undefined, {
      ksefPermissions: { requiredAnyOf: err.requiredAnyOf, present: err.present, contextNip: err.signIn?.contextNip ?? '' },
    });
  }
  if (err instanceof KsefRejectedError) {
    const first = err.entries[0];
    const ksef = first ? { code: first.code, description: first.description, ...(first.details ? { details: first.details } : {}) } : undefined;
    if (err.entries.some((e) => NOT_FOUND_CODES.has(e.code))) return new ApiError(404, 'not_found', `${err.message} Check the reference or KSeF number.`, undefined, { ksef });
    if (err.httpStatus === 401 || err.httpStatus === 403) {
      return new ApiError(422, 'ksef_access_denied', `${err.message} Check what the stored credentials may do: GET /ksef/${err.environment}/permissions.`, undefined, { ksef });
    }
    return new ApiError(422, 'ksef_rejected', err.message, undefined, { ksef });
  }
  return new ApiError(502, 'ksef_error', err.message);
}

export type ErrorLogger = Pick<Logger, 'error'>;

/** The one place where anything thrown becomes an HTTP answer. Unknown errors are logged, never shown. */
export function toApiError(err: unknown, log: ErrorLogger): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof KsefError) return fromKsef(err);
  if (err instanceof PdfError) {
    // Never the client's input: Chromium is saturated (worth a retry soon) or down/missing (the operator's to fix).
    const busy = err instanceof PdfBusyError || err instanceof PdfTimeoutError;
    if (!busy) log.error({ error: `${err.name}: ${err.message}` }, 'PDF engine unavailable');
    return busy
      ? new ApiError(503, 'pdf_busy', 'The PDF engine is busy; try again in a few seconds.', undefined, { headers: { 'Retry-After': '5' } })
      : new ApiError(503, 'pdf_unavailable', 'The PDF engine is unavailable right now (the cause has been logged); try again later.');
  }
  if (err instanceof URIError) {
    return badRequest('The request path is not valid percent-encoding (RFC 3986).', [{ path: 'path', message: 'malformed percent-encoding' }]);
  }
  const e = err as { type?: string; status?: number; statusCode?: number; message?: string; limit?: number; code?: string; expose?: boolean };
  // body-parser inflates `Content-Encoding: gzip|deflate` bodies; zlib says so when the bytes are not that.
  if (typeof e?.code === 'string' && e.code.startsWith('Z_')) {
    return badRequest('The request body does not match its Content-Encoding (not valid gzip/deflate data).', [{ path: 'body', message: 'not valid for its Content-Encoding' }]);
  }
  // serve-static refuses paths such as `/swagger/assets/%2e%2e/x` with a client error of its own.
  if (e?.expose && typeof e.status === 'number' && e.status >= 400 && e.status < 500 && !e.type) {
    return e.status === 403 || e.status === 404
      ? new ApiError(404, 'not_found', 'No such file.')
      : new ApiError(e.status, 'bad_request', e.message ?? 'The request is invalid.');
  }
  switch (e?.type) {
    case 'entity.too.large':
      return new ApiError(413, 'payload_too_large', `The request body is larger than the limit of ${e.limit} bytes.`);
    case 'entity.parse.failed':
      return badRequest('The request body is not valid JSON.', [{ path: 'body', message: 'not valid JSON' }]);
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new ApiError(415, 'unsupported_media_type', 'The request body must be UTF-8 JSON.');
  }
  log.error({ error: err instanceof Error ? `${err.name}: ${err.message}` : String(err), stack: (err as Error)?.stack }, 'unhandled error');
  return new ApiError(500, 'internal_error', 'Something went wrong on our side. It has been logged; please try again.');
}

/** Logs through the request's own logger (its lines carry the request id). */
export function errorMiddleware(send: (res: Parameters<ErrorRequestHandler>[2], error: ApiError) => void): ErrorRequestHandler {
  return (err, req, res, _next) => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    send(res, toApiError(err, req.log));
  };
}
