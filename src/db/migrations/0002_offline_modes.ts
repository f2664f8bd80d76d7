import { type Kysely, sql } from 'kysely';

/** Outage simulations say which offline mode they stand for: KSeF unavailability or an announced failure. */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .alterTable('ksef_environment_state')
    .addColumn('simulation_mode', 'text', (c) => c.notNull().defaultTo('offline').check(sql`simulation_mode in ('offline', 'awaryjny')`))
    .execute();
  await db.schema
    .alterTable('offline_invoices')
    .addCheckConstraint('offline_invoices_offline_mode_check', sql`offline_mode in ('offline', 'awaryjny')`)
    .execute();
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('offline_invoices').dropConstraint('offline_invoices_offline_mode_check').execute();
  await db.schema.alterTable('ksef_environment_state').dropColumn('simulation_mode').execute();
}
