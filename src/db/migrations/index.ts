import type { Migration, MigrationProvider } from 'kysely';
import * as initial from './0001_initial.js';
import * as offlineModes from './0002_offline_modes.js';
import * as relationsIndexed from './0003_relations_indexed.js';
import * as syncExports from './0004_sync_exports.js';
import * as bulkBatches from './0005_bulk_batches.js';
import * as companySettings from './0006_company_settings.js';
import * as loginThrottle from './0007_login_throttle.js';
import * as attemptSession from './0008_attempt_session.js';
import * as webhooks from './0009_webhooks.js';
import * as authCertificate from './0010_auth_certificate.js';
import * as webhookSecretRotation from './0011_webhook_secret_rotation.js';

/** Every migration, in order. Imported statically so they run the same under tsx, jest and a bundle. */
const migrations: Record<string, Migration> = {
  '0001_initial': initial,
  '0002_offline_modes': offlineModes,
  '0003_relations_indexed': relationsIndexed,
  '0004_sync_exports': syncExports,
  '0005_bulk_batches': bulkBatches,
  '0006_company_settings': companySettings,
  '0007_login_throttle': loginThrottle,
  '0008_attempt_session': attemptSession,
  '0009_webhooks': webhooks,
  '0010_auth_certificate': authCertificate,
  '0011_webhook_secret_rotation': webhookSecretRotation,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => migrations,
};
