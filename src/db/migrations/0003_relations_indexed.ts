import { type Kysely, sql } from 'kysely';

/**
 * Invoices we send get their relations (advance groups, corrections) indexed by a background pass, not
 * only by the sync: `relations_indexed_at` says which rows that pass (or the sync) has covered.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('synced_invoices').addColumn('relations_indexed_at', 'timestamptz').execute();
  await db.schema
    .createIndex('synced_invoices_unlinked')
    .on('synced_invoices')
    .columns(['company_id', 'environment'])
    .where(sql.ref('relations_indexed_at'), 'is', null)
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropIndex('synced_invoices_unlinked').execute();
  await db.schema.alterTable('synced_invoices').dropColumn('relations_indexed_at').execute();
}
