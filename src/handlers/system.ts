import type { components } from '../../generated/api.js';
import type { OperationHandlers } from '../../generated/operations.js';
import { pendingMigrations, pingDatabase } from '../db/connect.js';
import type { HandlerContext } from '../http/app.js';
import { ApiError } from '../http/errors.js';

type Handlers = Pick<OperationHandlers<HandlerContext>, 'getStatus' | 'getReadiness' | 'getMetrics' | 'getOpenApiDocument' | 'getSwaggerUi'>;
type ReadinessCheck = components['schemas']['ReadinessCheck'];

const DB_CHECK_TIMEOUT_MS = 2_000;
/** Short: a probe that waits for KSeF's own timeout would outlive the orchestrator's. */
const KSEF_CHECK_TIMEOUT_MS = 3_000;

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms))),
  ]).finally(() => clearTimeout(timer));
}

/** A failed check whose message may be shown: it names no host and no credential. */
class NotReady extends Error {}

/**
 * One readiness check, timed. `run` resolves with the message of success, or throws: NotReady with what to
 * show; anything else answers `failure` (this route is public), its cause goes to the log.
 */
async function check(name: string, failure: string, log: HandlerContext['log'], run: () => Promise<string>): Promise<ReadinessCheck> {
  const started = Date.now();
  try {
    return { name, ok: true, message: await run(), durationMs: Date.now() - started };
  } catch (err) {
    log.warn({ check: name, error: (err as Error).message }, 'readiness check failed');
    return { name, ok: false, message: err instanceof NotReady ? err.message : failure, durationMs: Date.now() - started };
  }
}

async function ksefChecks({ services, log }: HandlerContext): Promise<ReadinessCheck[]> {
  const reachability = await services.ksef.reachability(KSEF_CHECK_TIMEOUT_MS).catch((err: Error) => err);
  if (reachability instanceof Error) {
    log.warn({ check: 'ksef', error: reachability.message }, 'readiness check failed');
    return [{ name: 'ksef', ok: false, message: 'the KSeF environments in use could not be read from the database', durationMs: 0 }];
  }
  return reachability.map((r) => {
    if (!r.reachable) log.warn({ check: `ksef:${r.environment}`, error: r.error }, 'readiness check failed');
    return {
      name: `ksef:${r.environment}`,
      ok: r.reachable,
      message: r.reachable ? `KSeF ${r.environment} answered` : `KSeF ${r.environment} did not answer within ${KSEF_CHECK_TIMEOUT_MS} ms or refused the call`,
      durationMs: r.latencyMs,
    };
  });
}

const swaggerPage = `<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>Fast KSeF API</title>
  <link rel="stylesheet" href="/swagger/assets/swagger-ui.css">
</head>
<body>
  <div id="swagger-ui"></div>
  <script src="/swagger/assets/swagger-ui-bundle.js"></script>
  <script src="/swagger/assets/swagger-ui-standalone-preset.js"></script>
  <script src="/swagger/init.js"></script>
</body>
</html>
`;

export const systemHandlers: Handlers = {
  async getStatus(_req, { services, log }) {
    const started = Date.now();
    let up = true;
    try {
      await withTimeout(pingDatabase(services.database.db), DB_CHECK_TIMEOUT_MS);
    } catch (err) {
      up = false;
      log.warn({ error: (err as Error).message }, 'status: database check failed');
    }
    const body = {
      status: up ? ('ok' as const) : ('degraded' as const),
      version: services.version,
      uptimeSeconds: Math.floor((Date.now() - services.startedAt.getTime()) / 1000),
      database: { status: up ? ('up' as const) : ('down' as const), kind: services.database.kind, latencyMs: up ? Date.now() - started : null },
      time: new Date(),
    };
    return up ? { status: 200, body } : { status: 503, body };
  },

  async getReadiness(_req, ctx) {
    const { services, log } = ctx;
    const db = services.database.db;
    const checks = await Promise.all([
      check('database', 'the database did not answer', log, async () => {
        await withTimeout(pingDatabase(db), DB_CHECK_TIMEOUT_MS);
        return 'the database answers';
      }),
      check('migrations', 'the applied migrations could not be read', log, async () => {
        const pending = await withTimeout(pendingMigrations(db), DB_CHECK_TIMEOUT_MS);
        if (pending.length > 0) throw new NotReady(`not applied: ${pending.join(', ')} (the server migrates at start; restart it)`);
        return 'every migration is applied';
      }),
      check('chromium', 'Chromium cannot be started', log, async () => {
        const engine = services.documents.pdfEngine();
        if (!engine.ok) throw new NotReady(engine.message);
        return engine.message;
      }),
      ksefChecks(ctx),
    ]);
    const all = checks.flat();
    const ready = all.every((c) => c.ok);
    return { status: ready ? 200 : 503, body: { status: ready ? ('ready' as const) : ('not_ready' as const), checks: all } };
  },

  async getMetrics(_req, { services, log }) {
    try {
      return { status: 200, body: await services.metrics.scrape(), headers: { 'Content-Type': services.metrics.contentType } };
    } catch (err) {
      log.warn({ error: (err as Error).message }, 'metrics: reading the database failed');
      throw new ApiError(503, 'metrics_unavailable', 'The metrics read from the database could not be read; try again in a moment.');
    }
  },

  async getOpenApiDocument(_req, { services }) {
    return { status: 200, body: services.spec as any };
  },

  async getSwaggerUi() {
    return { status: 200, body: swaggerPage };
  },
};
