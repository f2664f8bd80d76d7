import type { Request, Response } from 'express';
import { SandboxState } from '../state.js';
import { sha256Base64 } from '../util/crypto.js';
import { ksefDateTime } from '../util/time.js';
import { KsefError, ProblemError } from './errors.js';

const instanceOf = (req: Request) => req.originalUrl.split('?')[0];

export const wantsProblemDetails = (req: Request) => (req.get('x-error-format') ?? '').trim().toLowerCase() === 'problem-details';

function sendProblem(res: Response, status: number, body: Record<string, unknown>) {
  res.status(status).type('application/problem+json').send(JSON.stringify(body));
}

/** XML documents (invoices, UPO) with their Base64 SHA-256 in `x-ms-meta-hash`. */
export function sendXml(res: Response, bytes: Buffer, hash = sha256Base64(bytes)): void {
  res.status(200).setHeader('x-ms-meta-hash', hash);
  res.type('application/xml').send(bytes);
}

function sendKsefError(state: SandboxState, req: Request, res: Response, err: KsefError) {
  const now = state.now();
  const traceId = state.nextTraceId();
  const detail = { code: err.code, description: err.description, details: err.details.length ? err.details : null };
  if (wantsProblemDetails(req)) {
    sendProblem(res, 400, {
      title: 'Bad Request',
      status: 400,
      instance: instanceOf(req),
      detail: err.details.length ? `${err.description} ${err.details.join(' ')}` : err.description,
      errors: [detail],
      timestamp: ksefDateTime(now),
      traceId,
    });
    return;
  }
  res.status(400).json({
    exception: {
      exceptionDetailList: [{ exceptionCode: err.code, exceptionDescription: err.description, details: detail.details }],
      ...(err.referenceNumber ? { referenceNumber: err.referenceNumber } : {}),
      serviceCode: `00-${traceId}-${traceId.slice(16)}-00`,
      serviceCtx: 'srvSANDBOX',
      serviceName: 'Undefined',
      timestamp: ksefDateTime(now),
    },
  });
}

export function sendTooManyRequests(state: SandboxState, req: Request, res: Response, retryAfterSeconds: number, message: string): void {
  res.setHeader('Retry-After', String(retryAfterSeconds));
  if (wantsProblemDetails(req)) {
    sendProblem(res, 429, {
      title: 'Too Many Requests',
      status: 429,
      instance: instanceOf(req),
      detail: message,
      timestamp: ksefDateTime(state.now()),
      traceId: state.nextTraceId(),
    });
    return;
  }
  res.status(429).json({ status: { code: 429, description: 'Too Many Requests', details: [message] } });
}

export function sendProblemError(state: SandboxState, req: Request, res: Response, err: ProblemError): void {
  sendProblem(res, err.status, {
    title: err.title,
    status: err.status,
    detail: err.detail,
    instance: instanceOf(req),
    ...err.extra,
    timestamp: ksefDateTime(state.now()),
    traceId: state.nextTraceId(),
  });
}

interface BodyParserError {
  type?: string;
  message?: string;
}

/** Express error handler body: every failure becomes one of KSeF's answers. */
export function sendError(state: SandboxState, req: Request, res: Response, err: unknown): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  if (err instanceof KsefError) return sendKsefError(state, req, res, err);
  if (err instanceof ProblemError) return sendProblemError(state, req, res, err);
  const parserError = err as BodyParserError;
  if (parserError?.type === 'entity.parse.failed') {
    return sendKsefError(state, req, res, new KsefError(21405, 'Błąd walidacji danych wejściowych.', [`body: invalid JSON (${parserError.message})`]));
  }
  if (parserError?.type === 'entity.too.large') {
    return sendKsefError(state, req, res, new KsefError(21405, 'Błąd walidacji danych wejściowych.', ['body: request body too large']));
  }
  if (parserError?.type === 'encoding.unsupported' || parserError?.type === 'charset.unsupported') {
    return sendKsefError(state, req, res, new KsefError(21405, 'Błąd walidacji danych wejściowych.', ['body: unsupported encoding']));
  }
  console.error('[sandbox] unexpected error', err);
  sendProblemError(state, req, res, new ProblemError(500, 'Internal Server Error', 'Nieznany błąd.'));
}
