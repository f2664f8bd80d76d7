import type { ErrorRequestHandler } from 'express';
import type { components } from '../../generated/api';

export type ErrorBody = components['schemas']['ErrorBody'];
export type ErrorDetail = components['schemas']['ErrorDetail'];

/** An error meant for the client: status, a stable code, a message saying what to do next. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: ErrorDetail[],
    readonly extra?: { ksef?: ErrorBody['ksef']; headers?: Record<string, string> },
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
      },
    };
  }
}

export const badRequest = (message: string, details?: ErrorDetail[]) => new ApiError(400, 'validation_failed', message, details);
export const notFound = (message: string) => new ApiError(404, 'not_found', message);
export const conflict = (message: string) => new ApiError(409, 'conflict', message);
export const forbidden = (message: string) => new ApiError(403, 'forbidden', message);
export const notImplemented = (what: string, plannedIn: string) =>
  new ApiError(501, 'not_implemented', `${what} is planned but not built yet (${plannedIn}). See "Planned routes" in the README.`);

export interface ErrorLogger {
  error(message: string, fields?: Record<string, unknown>): void;
}

/** The one place where anything thrown becomes an HTTP answer. Unknown errors are logged, never shown. */
export function toApiError(err: unknown, log: ErrorLogger): ApiError {
  if (err instanceof ApiError) return err;
  const e = err as { type?: string; status?: number; statusCode?: number; message?: string; limit?: number };
  switch (e?.type) {
    case 'entity.too.large':
      return new ApiError(413, 'payload_too_large', `The request body is larger than the limit of ${e.limit} bytes.`);
    case 'entity.parse.failed':
      return badRequest('The request body is not valid JSON.', [{ path: 'body', message: 'not valid JSON' }]);
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new ApiError(415, 'unsupported_media_type', 'The request body must be UTF-8 JSON.');
  }
  log.error('unhandled error', { error: err instanceof Error ? `${err.name}: ${err.message}` : String(err), stack: (err as Error)?.stack });
  return new ApiError(500, 'internal_error', 'Something went wrong on our side. It has been logged; please try again.');
}

export function errorMiddleware(log: ErrorLogger, send: (res: Parameters<ErrorRequestHandler>[2], error: ApiError) => void): ErrorRequestHandler {
  return (err, _req, res, _next) => {
    if (res.headersSent) {
      res.destroy();
      return;
    }
    send(res, toApiError(err, log));
  };
}
