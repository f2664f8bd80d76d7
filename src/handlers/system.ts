import { pingDatabase } from '../db/connect';
import type { OperationHandlers } from '../../generated/operations';
import type { HandlerContext } from '../http/app';

type Handlers = Pick<OperationHandlers<HandlerContext>, 'getStatus' | 'getOpenApiDocument' | 'getSwaggerUi'>;

const DB_CHECK_TIMEOUT_MS = 2_000;

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise,
    new Promise<T>((_, reject) => (timer = setTimeout(() => reject(new Error(`no answer in ${ms} ms`)), ms))),
  ]).finally(() => clearTimeout(timer));
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
  async getStatus(_req, { services }) {
    const started = Date.now();
    let up = true;
    try {
      await withTimeout(pingDatabase(services.database.db), DB_CHECK_TIMEOUT_MS);
    } catch (err) {
      up = false;
      services.logger.warn({ error: (err as Error).message }, 'status: database check failed');
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

  async getOpenApiDocument(_req, { services }) {
    return { status: 200, body: services.spec as any };
  },

  async getSwaggerUi() {
    return { status: 200, body: swaggerPage };
  },
};
