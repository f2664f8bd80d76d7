import express, { Express, NextFunction, Request, RequestHandler, Response, Router } from 'express';
import { adminRoutes } from '../admin/routes.js';
import { ksefTokenRoutes } from '../auth/ksef-tokens.js';
import { publicKeyRoutes } from '../auth/public-keys.js';
import { authRoutes } from '../auth/routes.js';
import { certificateRoutes } from '../certificates/routes.js';
import { invoiceRoutes } from '../invoices/routes.js';
import { limitRoutes } from '../limits/routes.js';
import { peppolRoutes } from '../peppol/routes.js';
import { permissionRoutes } from '../permissions/routes.js';
import { batchSessionRoutes } from '../sessions/batch.js';
import { sweep } from '../sessions/lifecycle.js';
import { onlineSessionRoutes } from '../sessions/online.js';
import { sessionStatusRoutes } from '../sessions/status.js';
import { SandboxState } from '../state.js';
import { testdataRoutes } from '../testdata/routes.js';
import { ProblemError } from './errors.js';
import { sendError, sendProblemError, sendTooManyRequests } from './respond.js';
import { storageRoutes } from './storage.js';

const STATUS_TITLES: Record<number, string> = {
  500: 'Internal Server Error',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

/** Injected faults, in front of everything but the admin API. */
function faults(state: SandboxState): RequestHandler {
  return async (req, res, next) => {
    const outage = state.faults.activeOutage();
    if (outage === 'refuse') {
      req.socket.destroy();
      return;
    }
    if (outage === '503') {
      res.setHeader('Retry-After', '30');
      return sendProblemError(state, req, res, new ProblemError(503, 'Service Unavailable', 'Usługa KSeF jest niedostępna (awaria symulowana przez sandbox).'));
    }
    if (state.faults.latencyMs > 0) await new Promise((resolve) => setTimeout(resolve, state.faults.latencyMs));
    if (req.path.startsWith('/v2/')) {
      const retryAfter = state.faults.takeTooManyRequests();
      if (retryAfter !== undefined) {
        return sendTooManyRequests(state, req, res, retryAfter, `Przekroczono limit żądań. Spróbuj ponownie po ${retryAfter} sekundach.`);
      }
    }
    const held = state.faults.answerDelayFor(req.method, req.path);
    if (held > 0) {
      // Processed now, answered later: a client that dies meanwhile never learns what KSeF did.
      const end = res.end.bind(res) as (...args: unknown[]) => Response;
      res.end = ((...args: unknown[]) => {
        setTimeout(() => end(...args), held).unref();
        return res;
      }) as Response['end'];
    }
    const status = state.faults.takeFailure(req.method, req.path);
    if (status !== undefined) {
      return sendProblemError(state, req, res, new ProblemError(status, STATUS_TITLES[status] ?? 'Error', 'Błąd wstrzyknięty przez sandbox (failNth).'));
    }
    next();
  };
}

function notFound(state: SandboxState): RequestHandler {
  return (req, res) => sendProblemError(state, req, res, new ProblemError(404, 'Not Found', `Nieznany zasób: ${req.method} ${req.path}`));
}

export function buildApp(state: SandboxState): Express {
  const app = express();
  app.disable('x-powered-by');
  app.set('etag', false);

  app.use((req, res, next) => {
    const warning = req.get('x-test-system-warning');
    if (warning) res.setHeader('X-System-Warning', warning);
    next();
  });
  if (state.options.faultsEnabled) app.use('/sandbox', adminRoutes(state));
  app.use(faults(state));
  app.use('/storage', storageRoutes(state));

  const api = Router();
  api.use(express.json({ limit: '20mb', type: ['application/json', 'application/*+json', 'text/json'] }));
  api.use((_req, _res, next) => {
    sweep(state, state.now());
    next();
  });
  api.use(
    publicKeyRoutes(state),
    authRoutes(state),
    ksefTokenRoutes(state),
    onlineSessionRoutes(state),
    batchSessionRoutes(state),
    sessionStatusRoutes(state),
    invoiceRoutes(state),
    limitRoutes(state),
    certificateRoutes(state),
    permissionRoutes(state),
    testdataRoutes(state),
    peppolRoutes(state),
  );
  app.use('/v2', api);
  app.use(notFound(state));
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => sendError(state, req, res, err));
  return app;
}
