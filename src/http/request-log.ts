import { randomUUID } from 'node:crypto';
import type { Request, RequestHandler, Response } from 'express';
import { pinoHttp } from 'pino-http';
import { type Logger, withLogContext } from '../logger.js';

export const UNKNOWN_OPERATION = 'unknown';

/** The contract's operation a request is for, fixed when it arrives (later middleware may rewrite `req.url`). */
export interface RoutedOperation {
  /** `unknown` for a path the contract does not have (and Swagger's static assets). */
  operationId: string;
  /** The path template, e.g. `/invoices/{environment}/{ksefNumber}`; null outside the contract. */
  route: string | null;
}

declare module 'express-serve-static-core' {
  interface Request {
    operation?: RoutedOperation;
  }
}

/** A client's id is kept when it is a sane token (a UUID, a trace id); anything else is replaced, never echoed. */
const CLIENT_REQUEST_ID = /^[A-Za-z0-9][A-Za-z0-9._:=+/-]{0,127}$/;

function requestIdFor(header: string | string[] | undefined): string {
  return typeof header === 'string' && CLIENT_REQUEST_ID.test(header) ? header : randomUUID();
}

/**
 * One access line per request (pino-http) with the method, the operation, status, duration, the caller's
 * company and email, and the request id, which is also answered in `X-Request-Id`. Nothing of the request
 * itself is written: no URL (its ids), no headers (Authorization), no body.
 */
export function accessLog(logger: Logger): RequestHandler {
  const line = (req: Request, res: Response, durationMs: number) => ({
    method: req.method,
    operationId: req.operation?.operationId,
    route: req.operation?.route ?? null,
    status: res.statusCode,
    durationMs,
    company: req.principal?.companyNip ?? null,
    user: req.principal?.email ?? null,
  });
  return pinoHttp<Request, Response>({
    logger,
    genReqId: (req, res) => {
      const id = requestIdFor(req.headers['x-request-id']);
      res.setHeader('X-Request-Id', id);
      return id;
    },
    customAttributeKeys: { reqId: 'requestId' },
    // The access line is the request's only line from pino-http, and its logger (req.log) carries only the id.
    quietReqLogger: true,
    quietResLogger: true,
    // Our logger's serializers stay: pino-http's would serialize `err` a second time.
    wrapSerializers: false,
    customLogLevel: (_req, res, err) => (err || res.statusCode >= 500 ? 'error' : 'info'),
    customSuccessObject: (req, res, fields: { responseTime: number }) => line(req, res, fields.responseTime),
    customErrorObject: (req, res, _err, fields: { responseTime: number }) => line(req, res, fields.responseTime),
  });
}

/** Whatever is logged while the request is handled carries its id (set by accessLog). */
export function requestLogContext(): RequestHandler {
  return (req, _res, next) => withLogContext({ requestId: String(req.id) }, next);
}

/** `observe` learns each request's operation, status (`aborted` when the client left first) and duration. */
export function requestMetrics(observe: (operationId: string, status: string, seconds: number) => void): RequestHandler {
  return (req, res, next) => {
    const started = performance.now();
    res.once('close', () => {
      observe(req.operation?.operationId ?? UNKNOWN_OPERATION, res.writableFinished ? String(res.statusCode) : 'aborted', (performance.now() - started) / 1000);
    });
    next();
  };
}
