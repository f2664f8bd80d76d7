import type { Users } from './accounts/users';
import type { DatabaseHandle } from './db/connect';
import type { KsefProxy } from './ksef-proxy';
import type { LocalDocuments } from './local/documents';
import type { Logger } from './logger';
import type { Metrics } from './observability/metrics';
import type { CompanySettings } from './settings/company-settings';

/** What handlers work with: built once at start by `createServices`, passed down, never global. */
export interface Services {
  database: DatabaseHandle;
  settings: CompanySettings;
  users: Users;
  /** Validation and rendering (PDF through one warm Chromium per server). */
  documents: LocalDocuments;
  /** The only way to KSeF. */
  ksef: KsefProxy;
  logger: Logger;
  /** Prometheus metrics of this server (its own registry). */
  metrics: Metrics;
  spec: Record<string, any>;
  version: string;
  startedAt: Date;
}
