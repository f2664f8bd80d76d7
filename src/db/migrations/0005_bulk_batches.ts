import { type Kysely, sql } from 'kysely';

/**
 * Bulk sending (README "Bulk sending"): a request's invoices are one `bulk_batches` row and one
 * `bulk_batch_items` row per accepted index, pointing at the invoice's `synced_invoices` row (an invoice
 * submitted twice points at the same row). `synced_invoices.transport` says which lane delivers a row:
 * `online` (the outbox, one by one) or `batch` (KSeF batch sessions). `online_unsent` is true only while
 * every online attempt so far failed before the invoice was handed to KSeF: only such rows may change lane.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('synced_invoices')
    .addColumn('transport', 'text', (c) => c.notNull().defaultTo('online').check(sql`transport in ('online', 'batch')`))
    .execute();
  await db.schema.alterTable('synced_invoices').addColumn('online_unsent', 'boolean', (c) => c.notNull().defaultTo(false)).execute();
  // The batch lane's queue and the backlog check read queued rows only: a small partial index.
  await db.schema
    .createIndex('synced_invoices_queued')
    .on('synced_invoices')
    .columns(['company_id', 'environment', 'transport'])
    .where(sql.ref('status'), '=', 'queued')
    .execute();

  await db.schema
    .createTable('bulk_batches')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('company_id', 'uuid', (c) => c.notNull().references('companies.id').onDelete('cascade'))
    .addColumn('environment', 'text', (c) => c.notNull().check(sql`environment in ('test', 'demo', 'prod')`))
    .addColumn('total_count', 'integer', (c) => c.notNull())
    .addColumn('accepted_count', 'integer', (c) => c.notNull())
    .addColumn('rejected', 'jsonb', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('bulk_batches_company').on('bulk_batches').columns(['company_id', 'environment']).execute();

  await db.schema
    .createTable('bulk_batch_items')
    .addColumn('batch_id', 'uuid', (c) => c.notNull().references('bulk_batches.id').onDelete('cascade'))
    .addColumn('item_index', 'integer', (c) => c.notNull())
    .addColumn('invoice_id', 'uuid', (c) => c.notNull().references('synced_invoices.id').onDelete('cascade'))
    .addPrimaryKeyConstraint('bulk_batch_items_pk', ['batch_id', 'item_index'])
    .execute();
  await db.schema.createIndex('bulk_batch_items_invoice').on('bulk_batch_items').column('invoice_id').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('bulk_batch_items').execute();
  await db.schema.dropTable('bulk_batches').execute();
  await db.schema.dropIndex('synced_invoices_queued').execute();
  await db.schema.alterTable('synced_invoices').dropColumn('online_unsent').execute();
  await db.schema.alterTable('synced_invoices').dropColumn('transport').execute();
}
