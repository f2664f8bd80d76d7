import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { bootstrapIfEmpty, type BootstrapResult } from './accounts/bootstrap';
import { Users } from './accounts/users';
import type { AppConfig } from './config';
import { migrateToLatest, openDatabase, type DatabaseOptions } from './db/connect';
import { handlers } from './handlers';
import { type AppOptions, createApp } from './http/app';
import { loadSpec } from './http/spec';
import { KsefProxy } from './ksef-proxy';
import { LocalDocuments } from './local/documents';
import { PdfRenderer } from './local/pdf';
import { createLogger, type Logger } from './logger';
import type { Services } from './services';
import { SystemConfig } from './settings/system-config';

export interface RunningServer {
  url: string;
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

  const services: Services = {
    database,
    systemConfig: new SystemConfig(database.db),
    users: new Users(database.db),
    // Chromium starts on the first PDF, not here: a server that never renders never pays for it.
    documents: new LocalDocuments(new PdfRenderer()),
    ksef: new KsefProxy(database.db, config, logger),
    logger,
    spec: loadSpec(),
    version: require('../package.json').version,
    startedAt: new Date(),
  };
  const { app } = await createApp(services, handlers, {
    bodyLimit: config.bodyLimit,
    batchBodyLimit: config.batchBodyLimit,
    authCacheTtlMs: config.authCacheTtlMs,
    onJsonResponse: options.onJsonResponse,
  });
  const server = http.createServer(app);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(config.port, config.host, resolve);
  });
  services.ksef.start();
  const { port } = server.address() as AddressInfo;
  const host = config.host === '0.0.0.0' || config.host === '::' ? '127.0.0.1' : config.host;
  return {
    url: `http://${host}:${port}`,
    services,
    bootstrap,
    async close() {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await services.ksef.stop();
      await services.documents.close();
      await database.close();
    },
  };
}
