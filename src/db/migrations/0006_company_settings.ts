import { type Kysely, sql } from 'kysely';

/**
 * Settings (`api.date.format`, …) belong to a company: one company's admin must not change what another
 * company's responses look like. The global rows become every existing company's own.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('company_settings')
    .addColumn('company_id', 'uuid', (c) => c.notNull().references('companies.id').onDelete('cascade'))
    .addColumn('key', 'text', (c) => c.notNull())
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('company_settings_pkey', ['company_id', 'key'])
    .execute();
  await sql`insert into company_settings (company_id, key, value, updated_at)
            select c.id, s.key, s.value, s.updated_at from companies c cross join system_config s`.execute(db);
  await db.schema.dropTable('system_config').execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('system_config')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  // The first company's settings were the installation's before settings were per company.
  await sql`insert into system_config (key, value, updated_at)
            select s.key, s.value, s.updated_at from company_settings s
            where s.company_id = (select id from companies order by created_at limit 1)`.execute(db);
  await db.schema.dropTable('company_settings').execute();
}
