import type { Kysely } from 'kysely';
import type { KsefEnvironmentName } from '../../config.js';
import type { Database } from '../../db/schema.js';
import type { SessionInvoice } from '../transport/api.js';

/**
 * KSeF's 440 (duplicate) names the original's KSeF number. When no other row of ours holds that number, the
 * original is this very file (it reached KSeF before: a crash, a retry), so the row is sent, not refused.
 */
export async function isOwnDuplicate(db: Kysely<Database>, companyId: string, environment: KsefEnvironmentName, rowId: string, item: SessionInvoice): Promise<boolean> {
  const original = item.status.extensions?.originalKsefNumber;
  if (item.status.code !== 440 || !original) return false;
  const holder = await db
    .selectFrom('synced_invoices')
    .select('id')
    .where('company_id', '=', companyId)
    .where('environment', '=', environment)
    .where('ksef_number', '=', original)
    .where('id', '!=', rowId)
    .executeTakeFirst();
  return !holder;
}
