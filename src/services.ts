import type { Users } from './accounts/users.js';
import type { DatabaseHandle } from './db/connect.js';
import type { KsefProxy } from './ksef-proxy/index.js';
import type { LocalDocuments } from './local/documents.js';
import type { Logger } from './logger.js';
import type { Metrics } from './observability/metrics.js';
import type { CompanySettings } from './settings/company-settings.js';
import type { Webhooks } from './webhooks/index.js';

/** What handlers work with: built once at start by `createServices`, passed down, never global. */
export interface Services {
  database: DatabaseHandle;
  settings: CompanySettings;
  users: Users;
  /** Validation and rendering (PDF through one warm Chromium per server). */
  documents: LocalDocuments;
  /** The only way to KSeF. */
  ksef: KsefProxy;
  /** Subscriptions, and the delivery of the events ksef-proxy records. */
  webhooks: Webhooks;
  logger: Logger;
  /** Prometheus metrics of this server (its own registry). */
  metrics: Metrics;
  spec: Record<string, any>;
  version: string;
  startedAt: Date;
}
