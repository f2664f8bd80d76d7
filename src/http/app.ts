import express, { type Request, type Response } from 'express';
import { OpenAPIBackend, type Context } from 'openapi-backend';
import ajvFormats from 'ajv-formats';
import swaggerUi from 'swagger-ui-dist';
import { operationIds, type OperationHandlers, type OperationId } from '../../generated/operations.js';
import type { Logger } from '../logger.js';
import type { Services } from '../services.js';
import { LoginThrottle } from '../accounts/login-throttle.js';
import { CredentialVerifier, requireApiUser } from './auth.js';
import { ApiError, errorMiddleware } from './errors.js';
import { docTypeFromAccept, type RawDocuments, sendRawDocument } from './raw-documents.js';
import { accessLog, requestLogContext, requestMetrics, type RoutedOperation, UNKNOWN_OPERATION } from './request-log.js';
import { formatDates } from './serialize.js';
import { toErrorDetails } from './validation-errors.js';

// ajv-formats' types declare an ES default export over CommonJS, so under NodeNext it sits on .default.
const addFormats = ajvFormats.default;

export interface HandlerContext {
  /** The authenticated caller; null only on public operations. */
  principal: import('../accounts/users.js').Principal | null;
  services: Services;
  /** The request's logger: its lines carry the request id. */
  log: Logger;
}

export interface AppOptions {
  bodyLimit: string;
  /** The body limit of the bulk route (`POST /invoices/{env}/batch`) alone. */
  batchBodyLimit: string;
  authCacheTtlMs: number;
  trustProxy: boolean | string | number;
  /** Sees every JSON response the app sends (the test suite validates each against the spec). */
  onJsonResponse?: (request: { method: string; path: string }, status: number, body: unknown) => void;
}

type HandlerResult = { status: number; body?: unknown; headers?: Record<string, string> };

const publicPaths = new Set(['/status', '/status/ready', '/openapi.json', '/swagger']);
const isPublic = (path: string) => publicPaths.has(path) || path.startsWith('/swagger/');
/** The bulk route carries up to 10,000 invoices: its own body limit. */
const isBulk = (req: Request) => req.method === 'POST' && /^\/invoices\/[^/]+\/batch$/.test(req.path);
const hasBody = (req: Request) => Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;

export async function createApp(services: Services, handlers: OperationHandlers<HandlerContext>, options: AppOptions) {
  const api = new OpenAPIBackend({
    // openapi-backend dereferences its definition in place: give it a copy so /openapi.json stays the contract as written.
    definition: structuredClone(services.spec) as any,
    strict: true,
    // The contract is linted in CI (make lint-spec); at start we only dereference it and compile validators on first use.
    quick: true,
    validate: true,
    coerceTypes: true,
    ajvOpts: { allErrors: true, strict: false },
    customizeAjv: (ajv) => {
      addFormats(ajv, ['date', 'date-time', 'email', 'uuid', 'uri']);
      return ajv;
    },
  });

  const send = async (req: Request, res: Response, result: HandlerResult) => {
    for (const [name, value] of Object.entries(result.headers ?? {})) res.setHeader(name, value);
    if (result.status === 204 || result.body === undefined) return void res.status(result.status).end();
    // A text body is HTML unless the handler named its type (`/metrics`).
    if (typeof result.body === 'string') return void res.status(result.status).type(res.get('Content-Type') ?? 'html').send(result.body);
    const body = formatDates(result.body, await services.settings.dateFormatter(req.principal?.companyId ?? null));
    res.status(result.status).json(body);
  };
  const sendError = (res: Response, error: ApiError) => {
    for (const [name, value] of Object.entries(error.extra?.headers ?? {})) res.setHeader(name, value);
    res.status(error.status).json(error.toBody());
  };

  const registered: Record<string, (c: Context, req: Request, res: Response) => Promise<void>> = {};
  for (const id of operationIds) {
    const handler = handlers[id] as (request: unknown, ctx: HandlerContext) => Promise<HandlerResult>;
    registered[id] = async (c, req, res) => {
      const raw = (c.operation as { 'x-raw-documents'?: RawDocuments })['x-raw-documents'];
      let query = c.request.query ?? {};
      const wanted = raw && query.docType === undefined ? docTypeFromAccept(req, raw) : undefined;
      if (wanted) query = { ...query, docType: wanted };
      const result = await handler({ params: c.request.params ?? {}, query, body: c.request.requestBody }, { principal: req.principal ?? null, services, log: req.log });
      if (raw && result.status === 200 && sendRawDocument(req, res, result.body)) return;
      await send(req, res, result);
    };
  }
  api.register({
    ...registered,
    validationFail: async (c: Context) => {
      const details = toErrorDetails(c.validation.errors as any, { body: c.request.requestBody, query: c.request.query, params: c.request.params });
      throw new ApiError(400, 'validation_failed', `The request is invalid: ${details.map((d) => `${d.path} ${d.message}`).join('; ')}.`, details);
    },
    notFound: async (c: Context) => {
      throw new ApiError(404, 'not_found', `No route ${c.request.method.toUpperCase()} ${c.request.path}. The API is described at /openapi.json and /swagger.`);
    },
    methodNotAllowed: async (c: Context) => {
      throw new ApiError(405, 'method_not_allowed', `${c.request.method.toUpperCase()} is not allowed on ${c.request.path}.`);
    },
  });
  // Credentials are checked by express-basic-auth before routing; the spec's security scheme only confirms it.
  api.registerSecurityHandler('basicAuth', (_c: Context, req: Request) => req.principal !== undefined);
  api.register('unauthorizedHandler', async () => {
    throw new ApiError(401, 'unauthorized', 'Send HTTP Basic credentials (email and password) of an API user.', undefined, {
      headers: { 'WWW-Authenticate': 'Basic realm="Fast KSeF"' },
    });
  });
  await api.init();
  const isRouted = fastRouting(api);
  const operationOf = (req: Request): RoutedOperation => {
    const op = api.router.matchOperation({ method: req.method, path: req.path, headers: {} });
    return op ? { operationId: op.operationId!, route: op.path } : { operationId: UNKNOWN_OPERATION, route: null };
  };

  const verifier = new CredentialVerifier(services.users, new LoginThrottle(services.database.db), options.authCacheTtlMs);
  const app = express();
  app.disable('x-powered-by');
  app.set('query parser', 'simple');
  app.set('trust proxy', options.trustProxy);

  app.use((req, _res, next) => {
    req.operation = operationOf(req);
    next();
  });
  app.use(accessLog(services.logger));
  app.use(requestLogContext());
  app.use(requestMetrics(services.metrics.observeRequest));

  if (options.onJsonResponse) {
    const inspect = options.onJsonResponse;
    app.use((req, res, next) => {
      const json = res.json.bind(res);
      res.json = (body: unknown) => {
        inspect({ method: req.method, path: req.path }, res.statusCode, body);
        return json(body);
      };
      next();
    });
  }

  app.use('/swagger/assets', express.static(swaggerUi.getAbsoluteFSPath(), { index: false, fallthrough: false, maxAge: '1h' }));
  app.get('/swagger/init.js', (_req, res) => {
    res.type('application/javascript').send(
      "window.ui = SwaggerUIBundle({ url: '/openapi.json', dom_id: '#swagger-ui', deepLinking: true, presets: [SwaggerUIBundle.presets.apis, SwaggerUIStandalonePreset], layout: 'StandaloneLayout' });\n",
    );
  });

  const authenticate = requireApiUser(verifier);
  // A path no operation has is a 404 for anyone: credentials are asked for only where there is something to guard.
  app.use((req, res, next) => (isPublic(req.path) || !isRouted(req.path) ? next() : authenticate(req, res, next)));

  app.use((req, _res, next) => {
    if (['POST', 'PUT', 'PATCH'].includes(req.method) && hasBody(req) && !req.is('application/json')) {
      return next(new ApiError(415, 'unsupported_media_type', `Send the request body as application/json (got ${req.headers['content-type'] ?? 'no Content-Type'}).`));
    }
    next();
  });
  const json = express.json({ limit: options.bodyLimit, strict: true, type: 'application/json' });
  const bulkJson = express.json({ limit: options.batchBodyLimit, strict: true, type: 'application/json' });
  app.use((req, res, next) => (isBulk(req) ? bulkJson : json)(req, res, next));

  app.use((req, res, next) => {
    api
      .handleRequest({ method: req.method, path: req.path, query: req.query as Record<string, string>, headers: req.headers as Record<string, string>, body: req.body }, req, res)
      .catch(next);
  });

  app.use(errorMiddleware(sendError));
  return { app, api };
}

/**
 * openapi-backend rebuilds its list of operations (a lodash chain over the whole spec) and a RegExp per
 * operation on every request it routes. The spec does not change after `init`: the list is built once here,
 * and `matchOperation` is the library's own algorithm over patterns compiled once (exact path first, then
 * templates by specificity; 404/405 as before).
 */
function fastRouting(api: OpenAPIBackend): (path: string) => boolean {
  const router = api.router;
  const operations = router.getOperations();
  router.getOperations = () => operations;
  const bySpecificity = operations
    .map((op) => ({ op, pattern: new RegExp(`^${op.path.replace(/\{.*?\}/g, '[^/]+')}$`), specificity: op.path.replace(/\{.*?\}/g, '').length }))
    .sort((a, b) => b.specificity - a.specificity);
  router.matchOperation = ((req: Parameters<typeof router.matchOperation>[0], strict?: boolean) => {
    const { path, method } = router.normalizeRequest(req);
    const fail = (message: string) => {
      if (strict) throw Error(message);
      return undefined;
    };
    if (!path.startsWith(router.apiRoot)) return fail('404-notFound: no route matches request');
    const normalizedPath = router.normalizePath(path);
    const exact = operations.find((op) => op.path === normalizedPath && op.method === method);
    if (exact) return exact;
    const matching = bySpecificity.filter((t) => t.pattern.test(normalizedPath));
    if (matching.length === 0) return fail('404-notFound: no route matches request');
    return matching.find((t) => t.op.method === method)?.op ?? fail('405-methodNotAllowed: this method is not registered for the route');
  }) as typeof router.matchOperation;
  // Whether any operation (whatever its method) has this path.
  return (path: string) => {
    if (!path.startsWith(router.apiRoot)) return false;
    const normalizedPath = router.normalizePath(path);
    return bySpecificity.some((t) => t.pattern.test(normalizedPath));
  };
}

export type { OperationId };
