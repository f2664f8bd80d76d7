import http from 'node:http';
import https from 'node:https';
import got, { type Method, RequestError, TimeoutError } from 'got';
import type { KsefConfig, KsefEnvironmentName } from '../../config.js';
import type { Logger } from '../../logger.js';
import {
  type KsefError,
  type KsefErrorEntry,
  KsefRateLimitedError,
  KsefPermissionDeniedError,
  KsefRejectedError,
  KsefServerError,
  KsefTimeoutError,
  KsefUnavailableError,
} from '../errors.js';
import type { LimitGroup, RateLimiter } from './limiter.js';

/**
 * When a failed call may be repeated:
 * - `idempotent`: reads, and sends KSeF de-duplicates (an invoice sent twice comes back as 440 with the
 *   original number): retry 429, 5xx, connection errors and timeouts;
 * - `once`: calls that create something (auth operation, session, redeem): retry only when the request
 *   certainly was not processed (429, 503, connection refused).
 */
export type RetryPolicy = 'idempotent' | 'once';

export interface KsefRequest {
  method: Method;
  /** Path under the environment's base URL (which ends in /v2), or an absolute pre-signed URL. */
  path: string;
  group: LimitGroup;
  /** Rate-limit scope: the company (context) the call is made for. */
  scope: string;
  retry: RetryPolicy;
  bearer?: string;
  json?: unknown;
  /** Raw bytes (a batch part upload) instead of `json`. */
  body?: Buffer;
  headers?: Record<string, string>;
  /** A probe's bounds instead of the configured timeout and attempts. */
  probe?: { timeoutMs: number };
}

export interface KsefResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  json<T>(): T;
}

/** Connections to KSeF are reused: a TLS handshake per call would cost more than most calls themselves. */
const agent = { http: new http.Agent({ keepAlive: true, maxSockets: 32 }), https: new https.Agent({ keepAlive: true, maxSockets: 32 }) };

const CONNECTION_NOT_MADE = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/** KSeF's API by what a call is for: a small fixed set, so a metric labelled with it stays small. */
export const KSEF_ENDPOINT_GROUPS = ['auth', 'security', 'sessions', 'invoices', 'exports', 'upload', 'download', 'other'] as const;
export type KsefEndpointGroup = (typeof KSEF_ENDPOINT_GROUPS)[number];

/** One HTTP exchange with KSeF (each attempt of a retried call): its HTTP status, or `timeout` / `network_error`. */
export interface KsefCall {
  environment: KsefEnvironmentName;
  endpoint: KsefEndpointGroup;
  status: string;
  seconds: number;
}

/** Told of every exchange with KSeF (metrics); must not throw. */
export type KsefCallObserver = (call: KsefCall) => void;

/** `/invoices/exports/{ref}` → exports, `/sessions/online/…` → sessions; an absolute URL is a pre-signed part upload. */
export function endpointGroup(path: string): KsefEndpointGroup {
  if (/^https?:\/\//.test(path)) return 'upload';
  const [first, second] = pathOnly(path).split('/').filter(Boolean);
  if (first === 'invoices' && second === 'exports') return 'exports';
  return (KSEF_ENDPOINT_GROUPS as readonly string[]).includes(first) ? (first as KsefEndpointGroup) : 'other';
}

export interface KsefHttpOptions {
  environment: KsefEnvironmentName;
  config: KsefConfig;
  limiter: RateLimiter;
  logger: Logger;
  observe?: KsefCallObserver;
  sleep?: (ms: number) => Promise<void>;
}

/** got with a timeout on every call, bounded retries with backoff and jitter, Retry-After, and the limiter. */
export class KsefHttp {
  readonly baseUrl: string;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(private readonly options: KsefHttpOptions) {
    this.baseUrl = options.config.baseUrls[options.environment];
    this.sleep = options.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
  }

  async request(req: KsefRequest): Promise<KsefResponse> {
    const { config, environment, limiter, logger } = this.options;
    const url = /^https?:\/\//.test(req.path) ? req.path : `${this.baseUrl}${req.path}`;
    const endpoint = endpointGroup(req.path);
    const timeoutMs = req.probe?.timeoutMs ?? config.requestTimeoutMs;
    const maxAttempts = req.probe ? 1 : config.maxAttempts;
    // Whether some attempt may have reached KSeF (answered otherwise than 503/429, or a connection was made).
    let maybeReceived = false;
    for (let attempt = 1; ; attempt++) {
      await limiter.acquire(`${req.scope}|${environment}`, req.group);
      const started = performance.now();
      let failure: Failure;
      try {
        const res = await got(url, {
          method: req.method,
          json: req.json as Record<string, unknown> | undefined,
          body: req.body,
          headers: { Accept: 'application/json', ...(req.bearer ? { Authorization: `Bearer ${req.bearer}` } : {}), ...req.headers },
          timeout: { request: timeoutMs },
          agent,
          retry: { limit: 0 },
          throwHttpErrors: false,
          followRedirect: false,
          responseType: 'buffer',
        });
        const seconds = this.observed(endpoint, String(res.statusCode), started);
        logger.debug({ environment, method: req.method, path: pathOnly(req.path), status: res.statusCode, ms: Math.round(seconds * 1000), attempt }, 'ksef call');
        const response: KsefResponse = {
          status: res.statusCode,
          headers: res.headers,
          body: res.body,
          json: <T>() => JSON.parse(res.body.toString('utf8')) as T,
        };
        if (res.statusCode < 400) return response;
        failure = this.classify(response, req.retry);
      } catch (err) {
        this.observed(endpoint, err instanceof TimeoutError ? 'timeout' : 'network_error', started);
        logger.debug({ environment, method: req.method, path: pathOnly(req.path), error: (err as Error).message, attempt }, 'ksef call failed');
        failure = this.classifyNetwork(err as Error, req.retry, timeoutMs);
      }
      maybeReceived ||= !failure.refused;
      const wait = failure.waitMs ?? backoff(attempt);
      if (!failure.retryable || attempt >= maxAttempts || wait > config.maxRetryAfterMs) {
        failure.error.neverReceived = !maybeReceived;
        throw failure.error;
      }
      await this.sleep(wait);
    }
  }

  /** Reports one exchange to the observer; returns its duration in seconds. */
  private observed(endpoint: KsefEndpointGroup, status: string, started: number): number {
    const seconds = (performance.now() - started) / 1000;
    this.options.observe?.({ environment: this.options.environment, endpoint, status, seconds });
    return seconds;
  }

  /** How long our limiter would hold one more call of `group` for `scope` now (ms), so a caller can say it waits. */
  limitDelay(scope: string, group: LimitGroup): number {
    return this.options.limiter.delay(`${scope}|${this.options.environment}`, group);
  }

  /**
   * A pre-signed download (an export part: no bearer, not rate-limited) as a stream of chunks, so a 50 MB part
   * is never held whole. Time-bounded by connect/response and by socket inactivity, not by the total, which
   * grows with the part; errors surface as KsefTimeoutError / KsefUnavailableError / KsefServerError.
   */
  async *download(url: string): AsyncGenerator<Buffer> {
    const env = this.options.environment;
    const timeoutMs = this.options.config.requestTimeoutMs;
    // Until the first byte arrives a failure (e.g. a kept-alive socket the server had closed) is simply retried.
    for (let attempt = 1; ; attempt++) {
      let received = false;
      const started = performance.now();
      let reported = false;
      const report = (outcome: string) => {
        if (!reported) this.observed('download', outcome, started);
        reported = true;
      };
      const stream = got.stream(url, { timeout: { connect: timeoutMs, response: timeoutMs, socket: timeoutMs }, agent, retry: { limit: 0 }, followRedirect: false, throwHttpErrors: false });
      let status = 0;
      stream.once('response', (res: { statusCode: number }) => (status = res.statusCode));
      try {
        for await (const chunk of stream) {
          if (status >= 400) throw new KsefServerError(env, status, `KSeF answered HTTP ${status} to an export part download.`);
          received = true;
          yield chunk as Buffer;
        }
        if (status >= 400) throw new KsefServerError(env, status, `KSeF answered HTTP ${status} to an export part download.`);
        report(String(status));
        return;
      } catch (err) {
        report(err instanceof KsefServerError ? String(status) : err instanceof TimeoutError ? 'timeout' : 'network_error');
        const error =
          err instanceof KsefServerError
            ? err
            : err instanceof TimeoutError
              ? new KsefTimeoutError(env, `An export part download stalled for ${timeoutMs} ms.`)
              : new KsefUnavailableError(env, `An export part could not be downloaded: ${(err as RequestError).code ?? (err as Error).message}.`);
        if (received || (status >= 400 && status < 500) || attempt >= this.options.config.maxAttempts) throw error;
        await this.sleep(backoff(attempt));
      } finally {
        stream.destroy();
        report(String(status)); // the consumer stopped reading early
      }
    }
  }

  private classify(res: KsefResponse, policy: RetryPolicy): Failure {
    const env = this.options.environment;
    if (res.status === 429) {
      const seconds = retryAfterSeconds(res.headers['retry-after']);
      // Jitter spreads the retries of many waiting callers over a little time instead of one instant.
      return { error: new KsefRateLimitedError(env, seconds), retryable: true, refused: true, waitMs: seconds * 1000 + Math.floor(Math.random() * 250) };
    }
    if (res.status === 503) {
      const seconds = res.headers['retry-after'] ? retryAfterSeconds(res.headers['retry-after']) : undefined;
      return { error: new KsefUnavailableError(env, 'KSeF answered 503 Service Unavailable.'), retryable: true, refused: true, waitMs: seconds !== undefined ? seconds * 1000 : undefined };
    }
    if (res.status >= 500) {
      return { error: new KsefServerError(env, res.status, `KSeF answered HTTP ${res.status}.`), retryable: policy === 'idempotent', refused: false };
    }
    return { error: rejection(env, res), retryable: false, refused: false };
  }

  private classifyNetwork(err: Error, policy: RetryPolicy, timeoutMs: number): Failure {
    const env = this.options.environment;
    if (err instanceof TimeoutError) {
      return { error: new KsefTimeoutError(env, `KSeF did not answer within ${timeoutMs} ms.`), retryable: policy === 'idempotent', refused: false };
    }
    const code = (err as RequestError).code;
    const notMade = code !== undefined && CONNECTION_NOT_MADE.has(code);
    return {
      error: new KsefUnavailableError(env, `KSeF (${this.baseUrl}) cannot be reached: ${code ?? err.message}.`),
      retryable: policy === 'idempotent' || notMade,
      refused: notMade,
    };
  }
}

/** A failed attempt: what to throw, whether to try again (and when), whether KSeF provably did not take it. */
interface Failure {
  error: KsefError;
  retryable: boolean;
  /** Refused before a connection was made, or answered 503/429: KSeF did not process this attempt. */
  refused: boolean;
  waitMs?: number;
}

/** Exponential backoff with full jitter: 0..min(5 s, 250 ms · 2^(attempt-1)). */
function backoff(attempt: number): number {
  return Math.floor(Math.random() * Math.min(5_000, 250 * 2 ** (attempt - 1)));
}

function retryAfterSeconds(header: string | string[] | undefined): number {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return 1;
  if (/^\d+$/.test(value.trim())) return Math.max(0, Number(value.trim()));
  const date = Date.parse(value);
  return Number.isNaN(date) ? 1 : Math.max(0, Math.ceil((date - Date.now()) / 1000));
}

const pathOnly = (path: string) => path.replace(/\?.*$/, '');

/** A 4xx: a 403 `missing-permissions` names what was missing (PROTOCOL.md §11), any other is KSeF's codes. */
function rejection(environment: KsefEnvironmentName, res: KsefResponse): KsefRejectedError {
  const entries = errorEntries(res);
  if (res.status === 403) {
    let body: any;
    try {
      body = res.json<any>();
    } catch {
      body = undefined;
    }
    if (body?.reasonCode === 'missing-permissions') {
      return new KsefPermissionDeniedError(environment, entries, strings(body.security?.requiredAnyOfPermissions) ?? [], strings(body.security?.presentPermissions) ?? []);
    }
  }
  return new KsefRejectedError(environment, res.status, entries);
}

/** KSeF's error bodies: ExceptionResponse (default), problem+json `errors`, or a bare problem+json. */
export function errorEntries(res: KsefResponse): KsefErrorEntry[] {
  let body: any;
  try {
    body = res.json<any>();
  } catch {
    return [];
  }
  const list = body?.exception?.exceptionDetailList;
  if (Array.isArray(list)) {
    return list.map((e: any) => ({ code: Number(e.exceptionCode), description: String(e.exceptionDescription ?? ''), details: strings(e.details) }));
  }
  if (Array.isArray(body?.errors)) {
    return body.errors.map((e: any) => ({ code: Number(e.code), description: String(e.description ?? ''), details: strings(e.details) }));
  }
  if (body?.status && typeof body.status === 'object') {
    return [{ code: Number(body.status.code), description: String(body.status.description ?? ''), details: strings(body.status.details) }];
  }
  if (typeof body?.title === 'string') {
    return [{ code: Number(body.status ?? res.status), description: String(body.detail ?? body.title), details: body.reasonCode ? [String(body.reasonCode)] : undefined }];
  }
  return [];
}

const strings = (value: unknown): string[] | undefined => (Array.isArray(value) ? value.map(String) : undefined);
