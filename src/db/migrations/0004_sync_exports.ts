import { type Kysely, sql } from 'kysely';

const environments = sql`environment in ('test', 'demo', 'prod')`;

/**
 * The sync through KSeF exports (PROTOCOL.md §8.4): all four subject types, the third-party and authorized
 * ones switchable per company; the progress of the background run, readable by every process; and the
 * staging rows of the package being unpacked, moved into the register in one transaction at its end.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`alter table synced_invoices drop constraint synced_invoices_direction_check`.execute(db);
  await sql`alter table synced_invoices add constraint synced_invoices_direction_check check (direction in ('issued', 'received', 'third-party', 'authorized'))`.execute(db);
  await sql`alter table invoice_sync_meta drop constraint invoice_sync_meta_subject_type_check`.execute(db);
  await sql`alter table invoice_sync_meta add constraint invoice_sync_meta_subject_type_check check (subject_type in ('Subject1', 'Subject2', 'Subject3', 'SubjectAuthorized'))`.execute(db);

  await db.schema
    .createTable('invoice_sync_settings')
    .addColumn('company_id', 'uuid', (c) => c.notNull().references('companies.id').onDelete('cascade'))
    .addColumn('environment', 'text', (c) => c.notNull().check(environments))
    .addColumn('third_party', 'boolean', (c) => c.notNull().defaultTo(true))
    .addColumn('authorized', 'boolean', (c) => c.notNull().defaultTo(true))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('invoice_sync_settings_pk', ['company_id', 'environment'])
    .execute();

  // The latest run per company and environment; `finished_at` null while it runs (or when its process died).
  await db.schema
    .createTable('invoice_sync_runs')
    .addColumn('company_id', 'uuid', (c) => c.notNull().references('companies.id').onDelete('cascade'))
    .addColumn('environment', 'text', (c) => c.notNull().check(environments))
    .addColumn('run_id', 'uuid', (c) => c.notNull())
    .addColumn('trigger', 'text', (c) => c.notNull())
    .addColumn('phase', 'text', (c) => c.notNull())
    .addColumn('started_at', 'timestamptz', (c) => c.notNull())
    .addColumn('finished_at', 'timestamptz')
    .addColumn('last_error', 'text')
    .addColumn('progress', 'jsonb', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('invoice_sync_runs_pk', ['company_id', 'environment'])
    .execute();

  // One unpacked invoice of the package being stored (`package_id`), with its parsed register fields. A run
  // clears its company's leftovers (a crash mid-package) before it stages anything.
  await db.schema
    .createTable('sync_staged_invoices')
    .addColumn('package_id', 'uuid', (c) => c.notNull())
    .addColumn('company_id', 'uuid', (c) => c.notNull().references('companies.id').onDelete('cascade'))
    .addColumn('environment', 'text', (c) => c.notNull())
    .addColumn('ksef_number', 'text', (c) => c.notNull())
    .addColumn('direction', 'text', (c) => c.notNull())
    .addColumn('invoice_number', 'text', (c) => c.notNull())
    .addColumn('invoice_type', 'text', (c) => c.notNull())
    .addColumn('issue_date', 'date', (c) => c.notNull())
    .addColumn('seller_nip', 'text', (c) => c.notNull())
    .addColumn('seller_name', 'text')
    .addColumn('buyer_nip', 'text')
    .addColumn('buyer_name', 'text')
    .addColumn('net_amount', 'numeric(18, 2)', (c) => c.notNull())
    .addColumn('vat_amount', 'numeric(18, 2)', (c) => c.notNull())
    .addColumn('gross_amount', 'numeric(18, 2)', (c) => c.notNull())
    .addColumn('currency', 'text', (c) => c.notNull())
    .addColumn('invoice_hash', 'text', (c) => c.notNull())
    .addColumn('xml', 'bytea', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('sync_staged_invoices_pk', ['package_id', 'ksef_number'])
    .execute();
  // `_metadata.json` of that package: which KSeF numbers it holds, and their dates.
  await db.schema
    .createTable('sync_staged_metadata')
    .addColumn('package_id', 'uuid', (c) => c.notNull())
    .addColumn('company_id', 'uuid', (c) => c.notNull().references('companies.id').onDelete('cascade'))
    .addColumn('environment', 'text', (c) => c.notNull())
    .addColumn('ksef_number', 'text', (c) => c.notNull())
    .addColumn('invoice_hash', 'text', (c) => c.notNull())
    .addColumn('acquisition_date', 'timestamptz')
    .addColumn('permanent_storage_date', 'timestamptz')
    .addColumn('invoicing_mode', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('sync_staged_metadata_pk', ['package_id', 'ksef_number'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of ['sync_staged_metadata', 'sync_staged_invoices', 'invoice_sync_runs', 'invoice_sync_settings']) await db.schema.dropTable(table).ifExists().execute();
  await sql`delete from invoice_sync_meta where subject_type not in ('Subject1', 'Subject2')`.execute(db);
  await sql`alter table invoice_sync_meta drop constraint invoice_sync_meta_subject_type_check`.execute(db);
  await sql`alter table invoice_sync_meta add constraint invoice_sync_meta_subject_type_check check (subject_type in ('Subject1', 'Subject2'))`.execute(db);
  await sql`delete from synced_invoices where direction not in ('issued', 'received')`.execute(db);
  await sql`alter table synced_invoices drop constraint synced_invoices_direction_check`.execute(db);
  await sql`alter table synced_invoices add constraint synced_invoices_direction_check check (direction in ('issued', 'received'))`.execute(db);
}
