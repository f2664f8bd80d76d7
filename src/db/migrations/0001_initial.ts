import { type Kysely, sql } from 'kysely';

/** The whole schema of the first release. Later changes are new migrations, never edits of this one. */

const environments = sql`environment in ('test', 'demo', 'prod')`;

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('companies')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('nip', 'varchar(10)', (c) => c.notNull().unique())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('users')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('company_id', 'uuid', (c) => c.notNull().references('companies.id').onDelete('cascade'))
    .addColumn('email', 'text', (c) => c.notNull())
    .addColumn('password_hash', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await sql`create unique index users_email_unique on users (lower(email))`.execute(db);
  await db.schema.createIndex('users_company').on('users').column('company_id').execute();

  await db.schema
    .createTable('system_config')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('ksef_credentials')
    .addColumn('company_id', 'uuid', (c) => c.notNull().references('companies.id').onDelete('cascade'))
    .addColumn('environment', 'text', (c) => c.notNull().check(environments))
    .addColumn('context_nip', 'varchar(10)', (c) => c.notNull())
    .addColumn('ksef_token_enc', 'bytea')
    .addColumn('offline_certificate_pem', 'text')
    .addColumn('offline_private_key_enc', 'bytea')
    .addColumn('offline_certificate_serial', 'text')
    .addColumn('offline_certificate_subject', 'text')
    .addColumn('offline_certificate_valid_from', 'timestamptz')
    .addColumn('offline_certificate_valid_to', 'timestamptz')
    .addColumn('access_token_enc', 'bytea')
    .addColumn('access_token_valid_until', 'timestamptz')
    .addColumn('refresh_token_enc', 'bytea')
    .addColumn('refresh_token_valid_until', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('ksef_credentials_pk', ['company_id', 'environment'])
    .execute();

  await db.schema
    .createTable('ksef_environment_state')
    .addColumn('company_id', 'uuid', (c) => c.notNull().references('companies.id').onDelete('cascade'))
    .addColumn('environment', 'text', (c) => c.notNull().check(environments))
    .addColumn('simulation_active', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('simulation_since', 'timestamptz')
    .addColumn('available', 'boolean', (c) => c.notNull().defaultTo(true))
    .addColumn('unavailable_since', 'timestamptz')
    .addColumn('last_probe_at', 'timestamptz')
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('ksef_environment_state_pk', ['company_id', 'environment'])
    .execute();

  await db.schema
    .createTable('ksef_sessions')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('company_id', 'uuid', (c) => c.notNull().references('companies.id').onDelete('cascade'))
    .addColumn('environment', 'text', (c) => c.notNull().check(environments))
    .addColumn('kind', 'text', (c) => c.notNull().check(sql`kind in ('online', 'batch')`))
    .addColumn('reference_number', 'varchar(36)', (c) => c.unique())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('symmetric_key_enc', 'bytea')
    .addColumn('initialization_vector', 'bytea')
    .addColumn('invoice_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('offline_mode', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('opened_at', 'timestamptz')
    .addColumn('valid_until', 'timestamptz')
    .addColumn('last_used_at', 'timestamptz')
    .addColumn('closed_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('ksef_sessions_open').on('ksef_sessions').columns(['company_id', 'environment', 'kind', 'status']).execute();

  await db.schema
    .createTable('synced_invoices')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('company_id', 'uuid', (c) => c.notNull().references('companies.id').onDelete('cascade'))
    .addColumn('environment', 'text', (c) => c.notNull().check(environments))
    .addColumn('direction', 'text', (c) => c.notNull().check(sql`direction in ('issued', 'received')`))
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('queued', 'pending', 'sent', 'error', 'synced')`))
    .addColumn('ksef_number', 'varchar(36)')
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
    .addColumn('currency', 'varchar(3)', (c) => c.notNull())
    .addColumn('invoice_hash', 'varchar(44)', (c) => c.notNull())
    .addColumn('xml', 'bytea', (c) => c.notNull())
    .addColumn('session_reference_number', 'varchar(36)')
    .addColumn('invoice_reference_number', 'varchar(36)')
    .addColumn('acquisition_date', 'timestamptz')
    .addColumn('permanent_storage_date', 'timestamptz')
    .addColumn('invoicing_mode', 'text')
    .addColumn('error_code', 'integer')
    .addColumn('error_message', 'text')
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  // One row per invoice file and per KSeF number: what makes "never sent twice" and "never stored twice" hold.
  await db.schema.createIndex('synced_invoices_hash').on('synced_invoices').columns(['company_id', 'environment', 'invoice_hash']).unique().execute();
  await db.schema.createIndex('synced_invoices_ksef_number').on('synced_invoices').columns(['company_id', 'environment', 'ksef_number']).unique().execute();
  await db.schema.createIndex('synced_invoices_outbox').on('synced_invoices').columns(['status', 'next_attempt_at']).execute();
  await db.schema.createIndex('synced_invoices_register').on('synced_invoices').columns(['company_id', 'environment', 'issue_date']).execute();
  await db.schema.createIndex('synced_invoices_number').on('synced_invoices').columns(['company_id', 'environment', 'seller_nip', 'invoice_number']).execute();
  await db.schema.createIndex('synced_invoices_session').on('synced_invoices').columns(['company_id', 'environment', 'session_reference_number']).execute();

  await db.schema
    .createTable('offline_invoices')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('company_id', 'uuid', (c) => c.notNull().references('companies.id').onDelete('cascade'))
    .addColumn('environment', 'text', (c) => c.notNull().check(environments))
    .addColumn('status', 'text', (c) => c.notNull().check(sql`status in ('pending', 'signed', 'error', 'processing', 'sent')`))
    .addColumn('invoice_number', 'text', (c) => c.notNull())
    .addColumn('invoice_type', 'text', (c) => c.notNull())
    .addColumn('issue_date', 'date', (c) => c.notNull())
    .addColumn('seller_nip', 'text', (c) => c.notNull())
    .addColumn('buyer_nip', 'text')
    .addColumn('buyer_name', 'text')
    .addColumn('net_amount', 'numeric(18, 2)', (c) => c.notNull())
    .addColumn('vat_amount', 'numeric(18, 2)', (c) => c.notNull())
    .addColumn('gross_amount', 'numeric(18, 2)', (c) => c.notNull())
    .addColumn('currency', 'varchar(3)', (c) => c.notNull())
    .addColumn('invoice_hash', 'varchar(44)', (c) => c.notNull())
    .addColumn('xml', 'bytea', (c) => c.notNull())
    .addColumn('qr_link_invoice', 'text', (c) => c.notNull())
    .addColumn('qr_link_certificate', 'text', (c) => c.notNull())
    .addColumn('offline_mode', 'text', (c) => c.notNull())
    .addColumn('submission_deadline', 'timestamptz')
    .addColumn('certificate_serial', 'text')
    .addColumn('session_reference_number', 'varchar(36)')
    .addColumn('invoice_reference_number', 'varchar(36)')
    .addColumn('ksef_number', 'varchar(36)')
    .addColumn('acquisition_date', 'timestamptz')
    .addColumn('error_code', 'integer')
    .addColumn('error_message', 'text')
    .addColumn('corrected_invoice_hash', 'varchar(44)')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema.createIndex('offline_invoices_hash').on('offline_invoices').columns(['company_id', 'environment', 'invoice_hash']).unique().execute();
  await db.schema.createIndex('offline_invoices_queue').on('offline_invoices').columns(['company_id', 'environment', 'status']).execute();
  await db.schema.createIndex('offline_invoices_session').on('offline_invoices').columns(['company_id', 'environment', 'session_reference_number']).execute();

  await db.schema
    .createTable('advance_groups')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('company_id', 'uuid', (c) => c.notNull().references('companies.id').onDelete('cascade'))
    .addColumn('environment', 'text', (c) => c.notNull().check(environments))
    .addColumn('settlement_invoice_id', 'uuid', (c) => c.references('synced_invoices.id').onDelete('set null'))
    .addColumn('settlement_ksef_number', 'varchar(36)')
    .addColumn('seller_nip', 'text', (c) => c.notNull())
    .addColumn('settlement_invoice_number', 'text', (c) => c.notNull())
    .addColumn('currency', 'varchar(3)', (c) => c.notNull())
    .addColumn('order_total', 'numeric(18, 2)')
    .addColumn('settlement_gross', 'numeric(18, 2)')
    .addColumn('advances_total', 'numeric(18, 2)', (c) => c.notNull().defaultTo(0))
    .addColumn('remainder', 'numeric(18, 2)', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .createIndex('advance_groups_settlement')
    .on('advance_groups')
    .columns(['company_id', 'environment', 'seller_nip', 'settlement_invoice_number'])
    .unique()
    .execute();

  await db.schema
    .createTable('advance_group_invoices')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('group_id', 'uuid', (c) => c.notNull().references('advance_groups.id').onDelete('cascade'))
    .addColumn('advance_ksef_number', 'varchar(36)')
    .addColumn('advance_invoice_number', 'text')
    .addColumn('advance_invoice_id', 'uuid', (c) => c.references('synced_invoices.id').onDelete('set null'))
    .addColumn('amount', 'numeric(18, 2)')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addCheckConstraint('advance_cited', sql`advance_ksef_number is not null or advance_invoice_number is not null`)
    .execute();
  await db.schema.createIndex('advance_group_invoices_group').on('advance_group_invoices').column('group_id').execute();
  await db.schema.createIndex('advance_group_invoices_ksef').on('advance_group_invoices').column('advance_ksef_number').execute();

  await db.schema
    .createTable('invoice_corrections')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('company_id', 'uuid', (c) => c.notNull().references('companies.id').onDelete('cascade'))
    .addColumn('environment', 'text', (c) => c.notNull().check(environments))
    .addColumn('correction_invoice_id', 'uuid', (c) => c.notNull().references('synced_invoices.id').onDelete('cascade'))
    .addColumn('corrected_ksef_number', 'varchar(36)')
    .addColumn('corrected_invoice_number', 'text', (c) => c.notNull())
    .addColumn('corrected_issue_date', 'date')
    .addColumn('corrected_seller_nip', 'text', (c) => c.notNull())
    .addColumn('corrected_invoice_id', 'uuid', (c) => c.references('synced_invoices.id').onDelete('set null'))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .createIndex('invoice_corrections_unique')
    .on('invoice_corrections')
    .columns(['correction_invoice_id', 'corrected_seller_nip', 'corrected_invoice_number'])
    .unique()
    .execute();
  await db.schema.createIndex('invoice_corrections_corrected').on('invoice_corrections').column('corrected_invoice_id').execute();

  await db.schema
    .createTable('invoice_sync_meta')
    .addColumn('company_id', 'uuid', (c) => c.notNull().references('companies.id').onDelete('cascade'))
    .addColumn('environment', 'text', (c) => c.notNull().check(environments))
    .addColumn('subject_type', 'text', (c) => c.notNull().check(sql`subject_type in ('Subject1', 'Subject2')`))
    .addColumn('hwm', 'timestamptz')
    .addColumn('last_run_at', 'timestamptz')
    .addColumn('last_success_at', 'timestamptz')
    .addColumn('invoice_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_error', 'text')
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('invoice_sync_meta_pk', ['company_id', 'environment', 'subject_type'])
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of [
    'invoice_sync_meta',
    'invoice_corrections',
    'advance_group_invoices',
    'advance_groups',
    'offline_invoices',
    'synced_invoices',
    'ksef_sessions',
    'ksef_environment_state',
    'ksef_credentials',
    'system_config',
    'users',
    'companies',
  ]) {
    await db.schema.dropTable(table).ifExists().execute();
  }
}
