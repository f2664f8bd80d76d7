import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { bootstrapIfEmpty, type BootstrapResult } from './accounts/bootstrap.js';
import { Users } from './accounts/users.js';
import type { AppConfig } from './config.js';
import { migrateToLatest, openDatabase, type DatabaseOptions } from './db/connect.js';
import { handlers } from './handlers/index.js';
import { type AppOptions, createApp } from './http/app.js';
import { loadSpec } from './http/spec.js';
import { KsefProxy } from './ksef-proxy/index.js';
import { LocalDocuments } from './local/documents.js';
import { packageVersion } from './package-root.js';
import { PdfRenderer } from './local/pdf/index.js';
import { createLogger, type Logger } from './logger.js';
import { Metrics } from './observability/metrics.js';
import type { Services } from './services.js';
import { CompanySettings } from './settings/company-settings.js';
import { Webhooks } from './webhooks/index.js';

export interface RunningServer {
  /** Where a client on this machine reaches it. */
  url: string;
  /** What it really listens on (`0.0.0.0:3000` listens on every interface). */
  listening: string;
  services: Services;
  bootstrap: BootstrapResult;
  close(): Promise<void>;
}

export interface StartOptions {
  config: AppConfig;
  logger?: Logger;
  database?: DatabaseOptions;
  onJsonResponse?: AppOptions['onJsonResponse'];
}

export function databaseOptions(config: AppConfig): DatabaseOptions {
  return config.databaseUrl
    ? { kind: 'postgres', url: config.databaseUrl }
    : { kind: 'pglite', dataDir: config.embeddedStorage === 'memory' ? null : config.dataDir };
}

/** Opens the database, migrates, bootstraps an empty one, and serves the API. */
export async function startServer(options: StartOptions): Promise<RunningServer> {
  const { config } = options;
  const logger = options.logger ?? createLogger();
  const database = await openDatabase(options.database ?? databaseOptions(config));
  await migrateToLatest(database.db);
  const bootstrap = await bootstrapIfEmpty(database.db, config.bootstrap);

  // The operator gauges are read from ksef-proxy when scraped; it is built just below.
  const metrics: Metrics = new Metrics({ outbox: () => ksef.outboxFigures(), sync: () => ksef.syncFigures() });
  const ksef = new KsefProxy(database.db, config, logger, { ksefCall: metrics.observeKsefCall });
  const version = packageVersion();
  const services: Services = {
    database,
    settings: new CompanySettings(database.db),
    users: new Users(database.db),
    // Chromium starts on the first PDF, not here: a server that never renders never pays for it.
    documents: new LocalDocuments(new PdfRenderer({ idleCloseMs: config.pdfIdleMs, observeRender: metrics.observePdfRender })),
    ksef,
    webhooks: new Webhooks(database.db, config.webhooks, ksef.secrets, logger, version),
    logger,
    metrics,
    spec: loadSpec(),
    version,
    startedAt: new Date(),
  };
  const { app } = await createApp(services, handlers, {
    bodyLimit: config.bodyLimit,
    batchBodyLimit: config.batchBodyLimit,
    authCacheTtlMs: config.authCacheTtlMs,
    trustProxy: config.trustProxy,
    onJsonResponse: options.onJsonResponse,
  });
  const server = http.createServer(app);
  server.on('clientError', answerClientError);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, resolve);
  });
  services.ksef.start();
  services.webhooks.start();
  const bound = server.address() as AddressInfo;
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  return {
    url: `http://${host}:${bound.port}`,
    listening: bound.family === 'IPv6' ? `[${bound.address}]:${bound.port}` : `${bound.address}:${bound.port}`,
    services,
    bootstrap,
    async close() {
      // Requests under way may finish within SHUTDOWN_TIMEOUT_MS; then their connections are cut.
      const deadline = Date.now() + config.shutdownTimeoutMs;
      const finished = new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.race([finished, new Promise((resolve) => setTimeout(resolve, config.shutdownTimeoutMs).unref())]);
      server.closeAllConnections();
      await services.ksef.stop(Math.max(0, deadline - Date.now()));
      await services.webhooks.stop(Math.max(0, deadline - Date.now()));
      await services.documents.close();
      await database.close();
    },
  };
}

/**
 * Requests Node's parser refuses before express sees them (headers over the limit, malformed HTTP) get our
 * JSON error shape instead of Node's bare status line.
 */
function answerClientError(err: NodeJS.ErrnoException, socket: Duplex): void {
  if (!socket.writable || err.code === 'ECONNRESET') return void socket.destroy();
  const tooLarge = err.code === 'HPE_HEADER_OVERFLOW';
  const status = tooLarge ? '431 Request Header Fields Too Large' : '400 Bad Request';
  const body = JSON.stringify({
    error: tooLarge
      ? { code: 'headers_too_large', message: `The request headers are larger than the server accepts (${http.maxHeaderSize} bytes in all).` }
      : { code: 'bad_request', message: 'The request is not valid HTTP/1.1.' },
  });
  socket.end(`HTTP/1.1 ${status}\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}
